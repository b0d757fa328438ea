using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Common;
using LambdaStats.Modules.View.Contracts;
using Mediator;

namespace LambdaStats.Modules.Batch.Contracts;

/// <summary>
/// Sent, under the ingestion gate, before the batch layer reads any event for
/// <see cref="Aggregation"/>. The run covers the events whose sequence is at most
/// <see cref="Sequence"/>: the new hours [<see cref="From"/>, <see cref="To"/>) and the
/// <see cref="RewrittenHours"/> before <see cref="From"/> that received late events.
/// </summary>
/// <param name="From">First new hour, UTC.</param>
/// <param name="To">End of the new hours, UTC, exclusive: the start of the running hour.</param>
public sealed record BatchStarting(
    string Aggregation,
    UtcHour From,
    UtcHour To,
    long Sequence,
    IReadOnlyList<UtcHour> RewrittenHours) : INotification
{
    /// <summary>Whether the run replaces views that queries may be reading.</summary>
    public bool RewritesFinalViews => RewrittenHours.Count > 0;
}

/// <summary>Sent after the views of a run are durable and the frontier is stored.</summary>
/// <param name="ComputedHours">
/// The hourly views the commit wrote, so the speed layer can compare them with its buffers before
/// it releases them. An hour written in slices is not among them: each
/// <see cref="BatchHourSliceComputed"/> carried its part.
/// </param>
public sealed record BatchCompleted(string Aggregation, BatchFrontier Frontier, IReadOnlyList<BucketRows<UtcHour>> ComputedHours) : INotification;

/// <summary>
/// Sent by a run that writes a large new hour in slices of hubs (see
/// <c>Batch:EventsPerHubSlice</c>), after each slice is written and before the commit that makes
/// the hour visible, so the speed layer can compare the slice's rows with its buffers.
/// </summary>
/// <param name="Sequence">The run's sequence, as in <see cref="BatchStarting"/>.</param>
/// <param name="ContainsHub">Whether a hub belongs to the slice: <see cref="Rows"/> contains every key of those hubs and no other.</param>
public sealed record BatchHourSliceComputed(
    string Aggregation,
    UtcHour Hour,
    long Sequence,
    Func<string, bool> ContainsHub,
    IReadOnlyDictionary<AggregationKey, AggregateRow> Rows) : INotification;

/// <summary>Sent when a run started with <see cref="BatchStarting"/> stops before it commits.</summary>
public sealed record BatchFailed(string Aggregation, string Reason) : INotification;

/// <summary>Sent after daily views are durable and the daily watermark is stored.</summary>
public sealed record DailyViewsCompleted(string Aggregation, BatchFrontier Frontier) : INotification;
