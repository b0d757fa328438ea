using Hangfire;
using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Batch.Contracts;
using LambdaStats.Modules.Common;
using LambdaStats.Modules.Events.Contracts;
using Microsoft.Extensions.Logging;

namespace LambdaStats.Modules.Batch;

/// <summary>
/// Splits a recompute or a backfill into Hangfire jobs of 24 hours at most, chained so they run
/// in order, so that the dashboard shows how far it has gone and a failed part is retried alone.
/// Only the parts that contain events get a job.
/// </summary>
internal sealed partial class RecomputeScheduler(IBackgroundJobClient jobs, AggregationCatalog catalog, IEventStore store, ILogger<RecomputeScheduler> logger) : IRecomputeScheduler
{
    private const int HoursPerChunk = 24;

    public async Task<RecomputeTicket> ScheduleRecomputeAsync(string? aggregation, UtcHour from, UtcHour to, CancellationToken cancellationToken)
    {
        AggregationDefinition? definition = null;
        if (aggregation is not null && !catalog.TryGet(aggregation, out definition))
        {
            throw new KeyNotFoundException($"Unknown aggregation '{aggregation}'; known aggregations: {string.Join(", ", catalog.All.Select(d => d.Name))}.");
        }

        var types = definition is null ? catalog.All.Select(d => d.EventType).Distinct().ToArray() : [definition.EventType];
        var hoursWithEvents = new SortedSet<UtcHour>();
        foreach (var type in types)
        {
            hoursWithEvents.UnionWith(await store.GetHoursWithEventsAsync(type, from, to, 0, long.MaxValue, cancellationToken).ConfigureAwait(false));
        }

        var chunks = RecomputeChunks(from, to, hoursWithEvents);
        var ids = new List<string>();
        for (var i = 0; i < chunks.Count; i++)
        {
            var (chunkFrom, chunkTo) = chunks[i];
            var number = i + 1;
            ids.Add(ids.Count == 0
                ? jobs.Enqueue<BatchJobs>(job => job.RecomputeAsync(aggregation, chunkFrom.Start, chunkTo.Start, number, chunks.Count, CancellationToken.None))
                : jobs.ContinueJobWith<BatchJobs>(ids[^1], job => job.RecomputeAsync(aggregation, chunkFrom.Start, chunkTo.Start, number, chunks.Count, CancellationToken.None)));
        }

        Log.RecomputeScheduled(logger, aggregation ?? "all aggregations", from.Start, to.Start, chunks.Count, ids.FirstOrDefault());
        return new RecomputeTicket(ids);
    }

    public string ScheduleHourlyCatchUp() => jobs.Enqueue<BatchJobs>(job => job.RunHourlyAsync(CancellationToken.None));

    public RecomputeTicket ScheduleBackfill(string aggregation, IReadOnlyList<UtcHour> hoursWithEvents, UtcHour end)
    {
        var firstHour = hoursWithEvents[0];
        var caps = BackfillCaps(hoursWithEvents, end);
        var ids = new List<string>();
        for (var i = 0; i < caps.Count; i++)
        {
            var cap = caps[i].Start;
            var step = i + 1;
            ids.Add(ids.Count == 0
                ? jobs.Enqueue<BatchJobs>(job => job.BackfillAsync(aggregation, cap, step, caps.Count, CancellationToken.None))
                : jobs.ContinueJobWith<BatchJobs>(ids[^1], job => job.BackfillAsync(aggregation, cap, step, caps.Count, CancellationToken.None)));
        }

        Log.BackfillScheduled(logger, aggregation, firstHour.Start, caps.Count);
        return new RecomputeTicket(ids);
    }

    /// <summary>
    /// Returns the end of each 24-hour chunk, counted from the first hour with events, that
    /// contains events, and then <paramref name="end"/>. A chunk without events gets no job: the
    /// next step's batch run moves the watermark across it. So an event dated centuries ago costs
    /// one job, not one per day in between.
    /// </summary>
    internal static List<UtcHour> BackfillCaps(IReadOnlyList<UtcHour> hoursWithEvents, UtcHour end)
    {
        var first = hoursWithEvents[0];
        var caps = new List<UtcHour>();
        foreach (var hour in hoursWithEvents)
        {
            if (hour >= end)
            {
                break;
            }

            var chunk = (hour.Index - first.Index) / HoursPerChunk;
            var cap = UtcHour.Min(first.AddHours((chunk + 1) * HoursPerChunk), end);
            if (caps.Count == 0 || caps[^1] != cap)
            {
                caps.Add(cap);
            }
        }

        if (caps.Count == 0 || caps[^1] != end)
        {
            caps.Add(end);
        }

        return caps;
    }

    /// <summary>
    /// Returns the 24-hour parts of [<paramref name="from"/>, <paramref name="to"/>), counted from
    /// <paramref name="from"/>, that contain an hour of <paramref name="hoursWithEvents"/>. A part
    /// without events has no views to replace, so a range of centuries with one busy day costs one job.
    /// </summary>
    internal static List<(UtcHour From, UtcHour To)> RecomputeChunks(UtcHour from, UtcHour to, IEnumerable<UtcHour> hoursWithEvents)
    {
        var chunks = new List<(UtcHour From, UtcHour To)>();
        foreach (var hour in hoursWithEvents.Where(hour => hour >= from && hour < to).Order())
        {
            var start = from.AddHours((hour.Index - from.Index) / HoursPerChunk * HoursPerChunk);
            if (chunks.Count == 0 || chunks[^1].From != start)
            {
                chunks.Add((start, UtcHour.Min(start.AddHours(HoursPerChunk), to)));
            }
        }

        return chunks;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2020, Level = LogLevel.Information, Message = "Recompute of {Aggregation} from {From:yyyy-MM-dd'T'HH:mm:sszzz} to {To:yyyy-MM-dd'T'HH:mm:sszzz} scheduled as {ChunkCount} chained jobs, first {FirstJobId}")]
        public static partial void RecomputeScheduled(ILogger logger, string aggregation, DateTimeOffset from, DateTimeOffset to, int chunkCount, string? firstJobId);

        [LoggerMessage(EventId = 2021, Level = LogLevel.Information, Message = "Backfill of new aggregation {Aggregation} from {From:yyyy-MM-dd'T'HH:mm:sszzz} scheduled as {StepCount} chained jobs")]
        public static partial void BackfillScheduled(ILogger logger, string aggregation, DateTimeOffset from, int stepCount);
    }
}
