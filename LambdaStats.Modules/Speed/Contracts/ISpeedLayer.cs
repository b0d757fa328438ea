using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Common;
using LambdaStats.Modules.View.Contracts;

namespace LambdaStats.Modules.Speed.Contracts;

/// <summary>Read side of the speed layer, for the view layer and the admin status.</summary>
public interface ISpeedLayer
{
    /// <summary>
    /// Copies, in one atomic step, the batch frontier known to the speed layer and the buffered
    /// rows of hours in [<paramref name="from"/>, <paramref name="to"/>) that match the filter.
    /// Those rows are exactly what the batch views do not cover: hours at or after the
    /// watermark, and late events of earlier hours.
    /// </summary>
    SpeedSnapshot TakeSnapshot(AggregationDefinition aggregation, KeyFilter filter, UtcHour from, UtcHour to);

    /// <summary>
    /// Whether no batch has rewritten views before the watermark since <paramref name="snapshot"/>
    /// was taken, so the views read after it match it.
    /// </summary>
    bool IsStillValid(SpeedSnapshot snapshot);

    /// <summary>Completes when the rewrite of final views in progress for <paramref name="aggregation"/> ends.</summary>
    Task WaitForRewriteAsync(string aggregation, CancellationToken cancellationToken);

    /// <summary>Hours currently held in memory for <paramref name="aggregation"/>, ascending.</summary>
    IReadOnlyList<UtcHour> GetHeldHours(string aggregation);

    /// <summary>Keys found to differ between a speed buffer and the batch view of its hour since startup; 0 in a correct system.</summary>
    long DivergenceCount { get; }

    /// <summary>Whether the buffers were rebuilt from the event store after startup.</summary>
    bool IsReady { get; }

    /// <summary>Completes once the buffers are rebuilt from the event store after startup.</summary>
    Task WhenReadyAsync(CancellationToken cancellationToken);

    /// <summary>Why the rebuild at startup failed and stopped the service; null while it has not failed.</summary>
    Exception? RebuildFailure { get; }
}

/// <summary>A consistent copy of one aggregation's speed state.</summary>
/// <param name="HourBounds">Earliest and latest occurrence of the events buffered per hour, over all keys: tells whether a partial hour can be served from the buffers.</param>
/// <param name="Rows">Copies of the buffered rows, one per hour and key; the caller owns them.</param>
/// <param name="RewriteInProgress">True while a batch replaces views before the watermark; retry after <see cref="ISpeedLayer.WaitForRewriteAsync"/>.</param>
public sealed record SpeedSnapshot(
    string Aggregation,
    BatchFrontier Frontier,
    long Generation,
    bool RewriteInProgress,
    IReadOnlyList<HourlyRow> Rows,
    IReadOnlyDictionary<UtcHour, OccurrenceBounds> HourBounds);

/// <summary>One buffered row: its hour, key and state.</summary>
public readonly record struct HourlyRow(UtcHour Hour, AggregationKey Key, AggregateRow Row);

/// <summary>Earliest and latest <c>occurredAt</c> of a set of events, both inclusive, UTC.</summary>
public readonly record struct OccurrenceBounds(DateTimeOffset Earliest, DateTimeOffset Latest)
{
    public OccurrenceBounds Union(OccurrenceBounds other) =>
        new(Earliest < other.Earliest ? Earliest : other.Earliest, Latest > other.Latest ? Latest : other.Latest);

    /// <summary>Whether every event lies in [<paramref name="from"/>, <paramref name="to"/>).</summary>
    public bool IsWithin(DateTimeOffset from, DateTimeOffset to) => Earliest >= from && Latest < to;
}
