using LambdaStats.Modules.Common;

namespace LambdaStats.Modules.Batch.Contracts;

/// <summary>Schedules long recomputes as chained background jobs of 24 hours at most.</summary>
public interface IRecomputeScheduler
{
    /// <summary>
    /// Schedules the recompute of [<paramref name="from"/>, <paramref name="to"/>), one job per
    /// 24 hours counted from <paramref name="from"/> that contain events; none when the range has
    /// no events. Throws <see cref="KeyNotFoundException"/> for an unknown aggregation.
    /// </summary>
    Task<RecomputeTicket> ScheduleRecomputeAsync(string? aggregation, UtcHour from, UtcHour to, CancellationToken cancellationToken);

    /// <summary>
    /// Schedules the backfill of a new aggregation up to <paramref name="end"/>, with one job per
    /// day that has events in <paramref name="hoursWithEvents"/> (ascending, not empty).
    /// </summary>
    RecomputeTicket ScheduleBackfill(string aggregation, IReadOnlyList<UtcHour> hoursWithEvents, UtcHour end);

    /// <summary>Schedules one hourly catch-up run now, as the recurring job would run it, and returns its job id.</summary>
    string ScheduleHourlyCatchUp();
}

/// <summary>The Hangfire job ids of a scheduled recompute, in the order they run.</summary>
public sealed record RecomputeTicket(IReadOnlyList<string> JobIds);
