using LambdaStats.Modules.Batch.Contracts;
using LambdaStats.Modules.View.Contracts;
using Mediator;

namespace LambdaStats.Web.Endpoints;

/// <summary>Operator endpoints: run the batch now, and the state of every aggregation.</summary>
internal static class AdminEndpoints
{
    public static IEndpointRouteBuilder MapAdminEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/admin/batch/run", RunHourlyAsync).WithName("RunHourlyBatch");
        app.MapPost("/api/admin/batch/daily", RunDailyAsync).WithName("RunDailyBatch");
        app.MapGet("/api/admin/status", GetStatusAsync).WithName("GetStatus");
        return app;
    }

    private static async Task<IResult> RunHourlyAsync(IMediator mediator, CancellationToken cancellationToken) =>
        ToResult(await mediator.Send(new RunHourlyBatch(), cancellationToken));

    private static async Task<IResult> RunDailyAsync(IMediator mediator, CancellationToken cancellationToken) =>
        ToResult(await mediator.Send(new RunDailyBatch(), cancellationToken));

    private static async Task<IResult> GetStatusAsync(IStatusQueries status, CancellationToken cancellationToken)
    {
        var aggregations = await status.GetStatusAsync(cancellationToken);
        return Results.Ok(new
        {
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
    /// before it. A failed aggregation makes the answer 500 with the reasons.
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
}
