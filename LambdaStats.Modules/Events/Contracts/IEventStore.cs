using LambdaStats.Modules.Common;

namespace LambdaStats.Modules.Events.Contracts;

/// <summary>
/// Port of the immutable event store. Every stored event gets a sequence number, strictly
/// increasing in the order of storage, which the batch layer uses to know which events its
/// views include.
/// </summary>
public interface IEventStore
{
    /// <summary>
    /// Stores the events whose id is not stored yet, in one transaction, and returns them in input
    /// order. An id already stored, or repeated earlier in the same batch, changes nothing.
    /// </summary>
    Task<AppendResult> AppendAsync(IReadOnlyList<LambdaEvent> events, CancellationToken cancellationToken);

    /// <summary>Returns the highest sequence number stored so far, or 0 when the store is empty.</summary>
    Task<long> GetMaxSequenceAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Streams the events of <paramref name="type"/> that occurred in [<paramref name="from"/>,
    /// <paramref name="to"/>) and whose sequence is in (<paramref name="afterSequence"/>,
    /// <paramref name="upToSequence"/>].
    /// </summary>
    IAsyncEnumerable<LambdaEvent> ScanAsync(
        EventType type,
        DateTimeOffset from,
        DateTimeOffset to,
        long afterSequence,
        long upToSequence,
        CancellationToken cancellationToken);

    /// <summary>
    /// Streams, for the batch layer, the events of any of <paramref name="types"/> that occurred in
    /// <paramref name="hour"/> and whose sequence is at most <paramref name="upToSequence"/>. The
    /// events of one type come in sequence order, and events of different types may interleave.
    /// </summary>
    /// <remarks>
    /// An event carries its type, time and hub, and the <paramref name="fields"/> that the batch
    /// reads. A store may leave any other field empty (the id) or null, so that it decodes less.
    /// The default reads the hour with <see cref="ScanAsync"/>, one type after the other.
    /// </remarks>
    IAsyncEnumerable<LambdaEvent> ScanHourAsync(
        UtcHour hour,
        IReadOnlyCollection<EventType> types,
        IReadOnlyCollection<EventField> fields,
        long upToSequence,
        CancellationToken cancellationToken) =>
        EventStoreScans.ScanHourByTypeAsync(this, hour, types, upToSequence, cancellationToken);

    /// <summary>
    /// Streams the events of the other overload whose hub <paramref name="includeHub"/> accepts,
    /// for a batch that computes an hour in slices of hubs. A store may test the hub before it
    /// decodes the rest of an event. The default filters the other overload's events.
    /// </summary>
    IAsyncEnumerable<LambdaEvent> ScanHourAsync(
        UtcHour hour,
        IReadOnlyCollection<EventType> types,
        IReadOnlyCollection<EventField> fields,
        long upToSequence,
        Func<string, bool> includeHub,
        CancellationToken cancellationToken) =>
        EventStoreScans.WhereHubAsync(ScanHourAsync(hour, types, fields, upToSequence, cancellationToken), includeHub, cancellationToken);

    /// <summary>
    /// Returns, in ascending order, the hours in [<paramref name="from"/>, <paramref name="to"/>)
    /// that hold at least one event of <paramref name="type"/> whose sequence is in
    /// (<paramref name="afterSequence"/>, <paramref name="upToSequence"/>].
    /// </summary>
    Task<IReadOnlyList<UtcHour>> GetHoursWithEventsAsync(
        EventType type,
        UtcHour from,
        UtcHour to,
        long afterSequence,
        long upToSequence,
        CancellationToken cancellationToken);

    /// <summary>Returns the number of stored events of <paramref name="type"/>.</summary>
    Task<long> CountAsync(EventType type, CancellationToken cancellationToken);

    /// <summary>
    /// Returns the number of events of any of <paramref name="types"/> that occurred in
    /// <paramref name="hour"/> and whose sequence is at most <paramref name="upToSequence"/>: the
    /// events that <see cref="ScanHourAsync(UtcHour, IReadOnlyCollection{EventType}, IReadOnlyCollection{EventField}, long, CancellationToken)"/>
    /// returns. The default counts that scan's events; a store with an index counts faster.
    /// </summary>
    async Task<long> CountHourAsync(UtcHour hour, IReadOnlyCollection<EventType> types, long upToSequence, CancellationToken cancellationToken)
    {
        var count = 0L;
        await foreach (var _ in ScanHourAsync(hour, types, [], upToSequence, cancellationToken).ConfigureAwait(false))
        {
            count++;
        }

        return count;
    }
}

/// <summary>Outcome of one append: the events newly stored, in input order, and how many were duplicates.</summary>
public sealed record AppendResult(IReadOnlyList<LambdaEvent> Stored, int Duplicates);
