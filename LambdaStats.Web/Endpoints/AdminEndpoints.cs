using LambdaStats.Modules.Batch.Contracts;
using LambdaStats.Modules.Common;
using LambdaStats.Modules.Speed.Contracts;
using LambdaStats.Modules.View.Contracts;
using Mediator;

namespace LambdaStats.Web.Endpoints;

/// <summary>Operator endpoints: run the batch now, and the state of every aggregation.</summary>
internal static partial class AdminEndpoints
{
    /// <summary>Retry-After value, in seconds, of a batch request made during the startup rebuild.</summary>
    private const int StartingRetryAfterSeconds = 5;

    public static IEndpointRouteBuilder MapAdminEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/admin/batch/run", RunHourlyAsync).WithName("RunHourlyBatch");
        app.MapPost("/api/admin/batch/daily", RunDailyAsync).WithName("RunDailyBatch");
        app.MapGet("/api/admin/status", GetStatusAsync).WithName("GetStatus");
        app.MapPost("/api/admin/recompute", ScheduleRecompute).WithName("ScheduleRecompute");
        return app;
    }

    private static Task<IResult> RunHourlyAsync(IMediator mediator, ISpeedLayer speed, HttpResponse response, IHostApplicationLifetime lifetime, CancellationToken cancellationToken) =>
        speed.IsReady
            ? RunUntilStoppingAsync(token => mediator.Send(new RunHourlyBatch(), token), lifetime, cancellationToken)
            : Task.FromResult(StillStarting(response));

    private static Task<IResult> RunDailyAsync(IMediator mediator, ISpeedLayer speed, HttpResponse response, IHostApplicationLifetime lifetime, CancellationToken cancellationToken) =>
        speed.IsReady
            ? RunUntilStoppingAsync(token => mediator.Send(new RunDailyBatch(), token), lifetime, cancellationToken)
            : Task.FromResult(StillStarting(response));

    /// <summary>
    /// Returns 503 with a Retry-After header, for a request made while the speed layer rebuilds
    /// its buffers at start and <c>/health/ready</c> returns 503 too. An hourly run would wait
    /// for the ingestion gate that the rebuild holds, for as long as the rebuild lasts. A daily
    /// run would read the hourly views before the catch-up that may follow the rebuild, and
    /// return 200 as if they were current.
    /// </summary>
    private static IResult StillStarting(HttpResponse response)
    {
        response.Headers.RetryAfter = StartingRetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Results.Problem(
            statusCode: StatusCodes.Status503ServiceUnavailable,
            title: "The service is still starting.",
            detail: $"The speed layer is rebuilding its buffers from the event store. Retry in {StartingRetryAfterSeconds} seconds, or once /health/ready returns 200.");
    }

    /// <summary>
    /// Runs a batch until it ends, the client leaves, or the service starts to stop. Kestrel lets
    /// a running request finish during the shutdown timeout rather than cancel it. Without the
    /// stopping token, a run started here would hold the stop for that whole time. A run waiting
    /// for another run's lock would even start once that run was cancelled.
    /// </summary>
    private static async Task<IResult> RunUntilStoppingAsync(Func<CancellationToken, ValueTask<BatchRunSummary>> run, IHostApplicationLifetime lifetime, CancellationToken cancellationToken)
    {
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lifetime.ApplicationStopping);
        try
        {
            return ToResult(await run(stopping.Token));
        }
        catch (OperationCanceledException) when (lifetime.ApplicationStopping.IsCancellationRequested)
        {
            return Results.Problem(
                statusCode: StatusCodes.Status503ServiceUnavailable,
                title: "The service is stopping.",
                detail: "The batch run was cancelled. Aggregations it had not committed keep their watermarks, and the next run computes their hours.");
        }
    }

    /// <summary>
    /// Schedules the recompute of [from, to), widened to whole hours, as chained Hangfire jobs
    /// (one per 24 hours with events, shown on the dashboard), and returns 202 with their ids.
    /// </summary>
    private static async Task<IResult> ScheduleRecompute(HttpContext context, IRecomputeScheduler scheduler, ILoggerFactory loggers)
    {
        var parameters = context.Request.Query;
        if (!JsonInstants.TryParse(parameters["from"], out var from))
        {
            return BadParameter("from", $"from '{parameters["from"]}' is missing or not an ISO-8601 instant with an offset, for example 2026-01-10T00:00:00Z.");
        }

        if (!JsonInstants.TryParse(parameters["to"], out var to))
        {
            return BadParameter("to", $"to '{parameters["to"]}' is missing or not an ISO-8601 instant with an offset, for example 2026-01-11T00:00:00Z.");
        }

        if (from >= to)
        {
            return BadParameter("from", $"from ({JsonInstants.Format(from)}) must be before to ({JsonInstants.Format(to)}).");
        }

        string? aggregation = parameters.TryGetValue("aggregation", out var name) ? name.ToString() : null;
        var firstHour = UtcHour.Containing(from);
        var endHour = UtcHour.IsOnTheHour(to) ? UtcHour.Containing(to) : UtcHour.Containing(to).Next;
        try
        {
            var ticket = await scheduler.ScheduleRecomputeAsync(aggregation, firstHour, endHour, context.RequestAborted);
            return Results.Json(
                new
                {
                    aggregation,
                    from = JsonInstants.Format(firstHour.Start),
                    to = JsonInstants.Format(endHour.Start),
                    jobs = ticket.JobIds,
                    dashboard = "/hangfire/jobs/enqueued",
                },
                statusCode: StatusCodes.Status202Accepted);
        }
        catch (KeyNotFoundException exception)
        {
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown aggregation.", detail: exception.Message);
        }
        catch (Hangfire.BackgroundJobClientException exception)
        {
            // The job storage (Redis, when Jobs:Storage is Redis) did not take the jobs. The parts
            // enqueued before the failure stay, and a recompute writes the same views again, so
            // the client can send the same request once the storage is back.
            Log.RecomputeNotScheduled(loggers.CreateLogger(typeof(AdminEndpoints).FullName!), exception, aggregation ?? "all aggregations", firstHour.Start, endHour.Start);
            return Results.Problem(
                statusCode: StatusCodes.Status503ServiceUnavailable,
                title: "The job storage is unavailable.",
                detail: $"The recompute could not be scheduled: {(exception.InnerException?.Message ?? exception.Message).TrimEnd('.')}. Send the same request again once the job storage is back; parts already scheduled are recomputed again, with the same result.");
        }
    }

    private static IResult BadParameter(string parameter, string detail) =>
        Results.Problem(
            statusCode: StatusCodes.Status400BadRequest,
            title: $"Invalid parameter '{parameter}'.",
            detail: detail,
            extensions: new Dictionary<string, object?> { ["parameter"] = parameter });

    /// <summary>
    /// Returns the state of every aggregation and the process's managed memory: the bytes the GC
    /// counts as allocated now, the heap size and committed bytes after the last collection, and
    /// the number of gen 2 collections. The memory figures are for soak runs and operators.
    /// </summary>
    private static async Task<IResult> GetStatusAsync(IStatusQueries status, ISpeedLayer speed, CancellationToken cancellationToken)
    {
        var aggregations = await status.GetStatusAsync(cancellationToken);
        var gc = GC.GetGCMemoryInfo();
        return Results.Ok(new
        {
            divergences = speed.DivergenceCount,
            memory = new
            {
                managedHeapBytes = GC.GetTotalMemory(forceFullCollection: false),
                heapSizeAfterLastGcBytes = gc.HeapSizeBytes,
                committedBytes = gc.TotalCommittedBytes,
                gen2Collections = GC.CollectionCount(2),
            },
            aggregations = aggregations.Select(a => new
            {
                aggregation = a.Aggregation,
                eventType = a.EventType,
                watermark = a.Watermark is { } watermark ? JsonInstants.Format(watermark) : null,
                dailyWatermark = a.DailyWatermark is { } daily ? JsonInstants.Format(daily) : null,
                sequence = a.Sequence,
                speedHours = a.SpeedHours.Select(JsonInstants.Format),
                storedEvents = a.StoredEvents,
            }),
        });
    }

    /// <summary>
    /// The run's watermark is the lowest over the aggregations, so every aggregation is final
    /// before it. A failed aggregation makes the response 500 with the reasons.
    /// </summary>
    private static IResult ToResult(BatchRunSummary summary)
    {
        var watermarks = summary.Aggregations.Where(a => a.Watermark is not null).Select(a => a.Watermark!.Value.Start).ToList();
        var body = new
        {
            watermark = watermarks.Count == 0 ? null : JsonInstants.Format(watermarks.Min()),
            aggregations = summary.Aggregations.Select(a => new
            {
                aggregation = a.Aggregation,
                watermark = a.Watermark is { } watermark ? JsonInstants.Format(watermark.Start) : null,
                bucketsWritten = a.BucketsWritten,
                error = a.Error,
            }),
        };
        var failed = summary.Aggregations.Where(a => a.Error is not null).ToList();
        return failed.Count == 0
            ? Results.Ok(body)
            : Results.Json(body, statusCode: StatusCodes.Status500InternalServerError);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 7001, Level = LogLevel.Error, Message = "Failed to schedule the recompute of {Aggregation} from {From:yyyy-MM-dd'T'HH:mm:sszzz} to {To:yyyy-MM-dd'T'HH:mm:sszzz}: the job storage did not take the jobs")]
        public static partial void RecomputeNotScheduled(ILogger logger, Exception exception, string aggregation, DateTimeOffset from, DateTimeOffset to);
    }
}
