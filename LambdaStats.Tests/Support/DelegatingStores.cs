using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Common;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.View.Contracts;

namespace LambdaStats.Tests.Support;

/// <summary>A view store that forwards every call, for tests that change one of them.</summary>
internal abstract class DelegatingViewStore(IViewStore inner) : IViewStore
{
    public virtual Task CommitAsync(AggregationDefinition aggregation, IReadOnlyList<BucketRows<UtcHour>> hours, IReadOnlyList<BucketRows<UtcDay>> days, BatchFrontier frontier, CancellationToken cancellationToken) =>
        inner.CommitAsync(aggregation, hours, days, frontier, cancellationToken);

    public Task<BatchFrontier> GetFrontierAsync(string aggregation, CancellationToken cancellationToken) => inner.GetFrontierAsync(aggregation, cancellationToken);

    public virtual Task WriteHourPartAsync(AggregationDefinition aggregation, BucketRows<UtcHour> rows, bool replace, CancellationToken cancellationToken) =>
        inner.WriteHourPartAsync(aggregation, rows, replace, cancellationToken);

    public virtual Task<IReadOnlyList<KeyedRow>> ReadHoursAsync(AggregationDefinition aggregation, KeyFilter filter, UtcHour from, UtcHour to, CancellationToken cancellationToken) => inner.ReadHoursAsync(aggregation, filter, from, to, cancellationToken);

    public Task<IReadOnlyList<KeyedRow>> ReadDaysAsync(AggregationDefinition aggregation, KeyFilter filter, UtcDay from, UtcDay to, CancellationToken cancellationToken) => inner.ReadDaysAsync(aggregation, filter, from, to, cancellationToken);

    public Task<IReadOnlyList<UtcDay>> GetDaysWithHourlyRowsAsync(AggregationDefinition aggregation, UtcDay from, UtcDay to, CancellationToken cancellationToken) => inner.GetDaysWithHourlyRowsAsync(aggregation, from, to, cancellationToken);

    public Task<IReadOnlyList<BucketRows<UtcHour>>> ReadDayHoursAsync(AggregationDefinition aggregation, UtcDay day, CancellationToken cancellationToken) => inner.ReadDayHoursAsync(aggregation, day, cancellationToken);
}

/// <summary>An event store that forwards every call, for tests that change one of them.</summary>
internal abstract class DelegatingEventStore(IEventStore inner) : IEventStore
{
    public virtual Task<AppendResult> AppendAsync(IReadOnlyList<LambdaEvent> events, CancellationToken cancellationToken) => inner.AppendAsync(events, cancellationToken);

    public virtual Task<long> GetMaxSequenceAsync(CancellationToken cancellationToken) => inner.GetMaxSequenceAsync(cancellationToken);

    public virtual IAsyncEnumerable<LambdaEvent> ScanAsync(EventType type, DateTimeOffset from, DateTimeOffset to, long afterSequence, long upToSequence, CancellationToken cancellationToken) =>
        inner.ScanAsync(type, from, to, afterSequence, upToSequence, cancellationToken);

    public Task<IReadOnlyList<UtcHour>> GetHoursWithEventsAsync(EventType type, UtcHour from, UtcHour to, long afterSequence, long upToSequence, CancellationToken cancellationToken) =>
        inner.GetHoursWithEventsAsync(type, from, to, afterSequence, upToSequence, cancellationToken);

    public Task<long> CountAsync(EventType type, CancellationToken cancellationToken) => inner.CountAsync(type, cancellationToken);

    public virtual Task<long> CountHourAsync(UtcHour hour, IReadOnlyCollection<EventType> types, long upToSequence, CancellationToken cancellationToken) =>
        inner.CountHourAsync(hour, types, upToSequence, cancellationToken);
}
