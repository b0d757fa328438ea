using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Batch.Contracts;
using LambdaStats.Modules.Common;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.Speed.Contracts;
using LambdaStats.Modules.View.Contracts;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LambdaStats.Modules.Batch;

/// <summary>
/// At startup, schedules the backfill of every aggregation that has no views yet while events of
/// its type are stored: an aggregation added to the configuration. Until the backfill reaches
/// the present, the speed layer holds that aggregation's whole history, so answers stay exact
/// and the answer's <c>finalUntil</c> shows how far the backfill has gone.
/// </summary>
/// <remarks>
/// Runs in the background once the speed layer is ready, so a large store never delays startup.
/// It also schedules an hourly catch-up at once when an aggregation with views is behind the
/// last closed hour. Otherwise an hourly run missed while the service was down, or cut off by
/// a stop, would wait for the next hour, and the speed layer would hold the closed hours until then.
/// </remarks>
internal sealed partial class BackfillStarter(
    AggregationCatalog catalog,
    IEventStore events,
    IViewStore views,
    IRecomputeScheduler scheduler,
    ISpeedLayer speed,
    TimeProvider clock,
    IOptions<BatchOptions> options,
    ILogger<BackfillStarter> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.ScheduleJobs)
        {
            return;
        }

        try
        {
            await speed.WhenReadyAsync(stoppingToken).ConfigureAwait(false);
            await ScheduleMissingBackfillsAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down before the speed layer was ready: the next start checks again.
        }
        catch (Exception exception)
        {
            Log.BackfillCheckFailed(logger, exception);
        }
    }

    /// <summary>Schedules a backfill for every aggregation without views whose event type has stored events.</summary>
    public async Task ScheduleMissingBackfillsAsync(CancellationToken cancellationToken)
    {
        var end = UtcHour.Containing(clock.GetUtcNow());
        var maxSequence = await events.GetMaxSequenceAsync(cancellationToken).ConfigureAwait(false);
        var behind = new List<(string Aggregation, UtcHour Watermark)>();
        foreach (var definition in catalog.All)
        {
            var frontier = await views.GetFrontierAsync(definition.ViewId, cancellationToken).ConfigureAwait(false);
            if (!frontier.IsInitial)
            {
                if (frontier.Watermark < end)
                {
                    behind.Add((definition.Name, frontier.Watermark));
                }

                continue;
            }

            var hours = await events.GetHoursWithEventsAsync(definition.EventType, UtcHour.MinValue, end, 0, maxSequence, cancellationToken).ConfigureAwait(false);
            if (hours.Count > 0)
            {
                Log.NewAggregationFound(logger, definition.Name, hours[0].Start);
                scheduler.ScheduleBackfill(definition.Name, hours, end);
            }
        }

        if (behind.Count > 0)
        {
            var oldest = behind.MinBy(aggregation => aggregation.Watermark);
            var jobId = scheduler.ScheduleHourlyCatchUp();
            Log.CatchUpScheduled(logger, behind.Count, oldest.Aggregation, oldest.Watermark.Start, end.Start, jobId);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2030, Level = LogLevel.Information, Message = "Aggregation {Aggregation} has no views yet; scheduling its backfill from {FirstHour:yyyy-MM-dd'T'HH:mm:sszzz}")]
        public static partial void NewAggregationFound(ILogger logger, string aggregation, DateTimeOffset firstHour);

        [LoggerMessage(EventId = 2032, Level = LogLevel.Information, Message = "Aggregations behind the last closed hour: {Count}, the oldest {Aggregation} at {Watermark:yyyy-MM-dd'T'HH:mm:sszzz}, while closed hours end at {End:yyyy-MM-dd'T'HH:mm:sszzz}; hourly catch-up scheduled now as job {JobId}")]
        public static partial void CatchUpScheduled(ILogger logger, int count, string aggregation, DateTimeOffset watermark, DateTimeOffset end, string jobId);

        [LoggerMessage(EventId = 2031, Level = LogLevel.Error, Message = "Checking for aggregations to backfill failed; restart the service or schedule the backfill with POST /api/admin/recompute")]
        public static partial void BackfillCheckFailed(ILogger logger, Exception exception);
    }
}
