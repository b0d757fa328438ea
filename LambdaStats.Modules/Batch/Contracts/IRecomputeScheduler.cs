using LambdaStats.Modules.Common;

namespace LambdaStats.Modules.Batch.Contracts;

/// <summary>Schedules long recomputes as chained background jobs, one per day of hours.</summary>
public interface IRecomputeScheduler
{
    /// <summary>Schedules the recompute of [<paramref name="from"/>, <paramref name="to"/>); throws <see cref="KeyNotFoundException"/> for an unknown aggregation.</summary>
    RecomputeTicket ScheduleRecompute(string? aggregation, UtcHour from, UtcHour to);

    /// <summary>
    /// Schedules the backfill of a new aggregation up to <paramref name="end"/>, with one job per
    /// day that has events in <paramref name="hoursWithEvents"/> (ascending, not empty).
    /// </summary>
    RecomputeTicket ScheduleBackfill(string aggregation, IReadOnlyList<UtcHour> hoursWithEvents, UtcHour end);
}

/// <summary>The Hangfire job ids of a scheduled recompute, in the order they run.</summary>
public sealed record RecomputeTicket(IReadOnlyList<string> JobIds);
