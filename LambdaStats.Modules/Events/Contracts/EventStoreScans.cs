using System.Runtime.CompilerServices;
using LambdaStats.Modules.Common;

namespace LambdaStats.Modules.Events.Contracts;

/// <summary>Scans built on the members every <see cref="IEventStore"/> implements.</summary>
public static class EventStoreScans
{
    /// <summary>
    /// Reads the events of <paramref name="types"/> in <paramref name="hour"/> up to
    /// <paramref name="upToSequence"/> with one <see cref="IEventStore.ScanAsync"/> per type, in
    /// ascending type order. It is the default of <see cref="IEventStore.ScanHourAsync"/>.
    /// </summary>
    public static async IAsyncEnumerable<LambdaEvent> ScanHourByTypeAsync(
        IEventStore store,
        UtcHour hour,
        IReadOnlyCollection<EventType> types,
        long upToSequence,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var type in types.Distinct().Order())
        {
            await foreach (var e in store.ScanAsync(type, hour.Start, hour.End, 0, upToSequence, cancellationToken).ConfigureAwait(false))
            {
                yield return e;
            }
        }
    }

    /// <summary>
    /// Returns the events of <paramref name="scan"/> whose hub <paramref name="includeHub"/>
    /// accepts. It is the default of the hub-filtered <see cref="IEventStore.ScanHourAsync(UtcHour, IReadOnlyCollection{EventType}, IReadOnlyCollection{EventField}, long, Func{string, bool}, CancellationToken)"/>.
    /// </summary>
    public static async IAsyncEnumerable<LambdaEvent> WhereHubAsync(
        IAsyncEnumerable<LambdaEvent> scan,
        Func<string, bool> includeHub,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var e in scan.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            if (includeHub(e.HubId))
            {
                yield return e;
            }
        }
    }
}
