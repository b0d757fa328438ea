using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Common;

namespace LambdaStats.Modules.View.Contracts;

/// <summary>
/// Port of the batch views: hourly and daily rows per aggregation and key, and the batch frontier
/// of each aggregation. Writes replace the rows of the buckets they name, never add to them.
/// </summary>
public interface IViewStore
{
    /// <summary>
    /// Returns the stored frontier of the aggregation whose <see cref="AggregationDefinition.ViewId"/>
    /// is <paramref name="aggregation"/>, or <see cref="BatchFrontier.Initial"/>.
    /// </summary>
    /// <remarks>Adapters store rows and frontiers under the view id, never the bare name.</remarks>
    Task<BatchFrontier> GetFrontierAsync(string aggregation, CancellationToken cancellationToken);

    /// <summary>
    /// Replaces the rows of every listed hour and day (an empty list of rows deletes the bucket's
    /// rows), then sets the frontier. When the method returns, the rows are durable and visible to
    /// readers. Adapters that can do so write everything in one transaction.
    /// </summary>
    Task CommitAsync(
        AggregationDefinition aggregation,
        IReadOnlyList<BucketRows<UtcHour>> hours,
        IReadOnlyList<BucketRows<UtcDay>> days,
        BatchFrontier frontier,
        CancellationToken cancellationToken);

    /// <summary>
    /// Writes the rows of some hubs of one hour at or after the aggregation's watermark, durably,
    /// and leaves the frontier as it is. Readers do not read such an hour until a later
    /// <see cref="CommitAsync"/> moves the watermark past it. So a batch may write a large hour
    /// in several parts. With <paramref name="replace"/>, the hour's stored rows are deleted first;
    /// otherwise no hub of <paramref name="rows"/> may already have rows in that hour.
    /// </summary>
    /// <exception cref="InvalidOperationException">The hour is before the stored watermark, where readers would see it.</exception>
    Task WriteHourPartAsync(AggregationDefinition aggregation, BucketRows<UtcHour> rows, bool replace, CancellationToken cancellationToken);

    /// <summary>Reads the hourly rows of [<paramref name="from"/>, <paramref name="to"/>) that match <paramref name="filter"/>.</summary>
    Task<IReadOnlyList<KeyedRow>> ReadHoursAsync(AggregationDefinition aggregation, KeyFilter filter, UtcHour from, UtcHour to, CancellationToken cancellationToken);

    /// <summary>Reads the daily rows of [<paramref name="from"/>, <paramref name="to"/>) that match <paramref name="filter"/>.</summary>
    Task<IReadOnlyList<KeyedRow>> ReadDaysAsync(AggregationDefinition aggregation, KeyFilter filter, UtcDay from, UtcDay to, CancellationToken cancellationToken);

    /// <summary>Returns, in ascending order, the days in [<paramref name="from"/>, <paramref name="to"/>) that have hourly rows.</summary>
    Task<IReadOnlyList<UtcDay>> GetDaysWithHourlyRowsAsync(AggregationDefinition aggregation, UtcDay from, UtcDay to, CancellationToken cancellationToken);

    /// <summary>Reads every hourly row of one day, for building its daily view.</summary>
    Task<IReadOnlyList<BucketRows<UtcHour>>> ReadDayHoursAsync(AggregationDefinition aggregation, UtcDay day, CancellationToken cancellationToken);
}

/// <summary>The rows of one bucket, by key.</summary>
public sealed record BucketRows<TBucket>(TBucket Bucket, IReadOnlyDictionary<AggregationKey, AggregateRow> Rows);

/// <summary>One stored row and its key.</summary>
public readonly record struct KeyedRow(AggregationKey Key, AggregateRow Row);
