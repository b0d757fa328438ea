using System.Runtime.CompilerServices;
using LambdaStats.Modules.Common;
using LambdaStats.Modules.Events.Contracts;

namespace LambdaStats.Tests.Support;

/// <summary>
/// A complete in-memory implementation of the event store port, used where thousands of
/// scenarios must run quickly; the SQLite adapter has its own tests against the same contract.
/// </summary>
internal sealed class InMemoryEventStore : IEventStore
{
    private readonly object sync = new();
    private readonly List<(long Sequence, LambdaEvent Event)> events = [];
    private readonly HashSet<string> ids = new(StringComparer.Ordinal);

    public IReadOnlyList<LambdaEvent> All
    {
        get
        {
            lock (sync)
            {
                return events.Select(e => e.Event).ToList();
            }
        }
    }

    public Task<AppendResult> AppendAsync(IReadOnlyList<LambdaEvent> batch, CancellationToken cancellationToken)
    {
        lock (sync)
        {
            var stored = new List<LambdaEvent>();
            var duplicates = 0;
            foreach (var e in batch)
            {
                if (ids.Add(e.Id))
                {
                    events.Add((events.Count + 1, e));
                    stored.Add(e);
                }
                else
                {
                    duplicates++;
                }
            }

            return Task.FromResult(new AppendResult(stored, duplicates));
        }
    }

    public Task<long> GetMaxSequenceAsync(CancellationToken cancellationToken)
    {
        lock (sync)
        {
            return Task.FromResult((long)events.Count);
        }
    }

    public async IAsyncEnumerable<LambdaEvent> ScanAsync(
        EventType type,
        DateTimeOffset from,
        DateTimeOffset to,
        long afterSequence,
        long upToSequence,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        List<LambdaEvent> matches;
        lock (sync)
        {
            matches = events
                .Where(e => e.Event.Type == type && e.Event.OccurredAt >= from && e.Event.OccurredAt < to && e.Sequence > afterSequence && e.Sequence <= upToSequence)
                .Select(e => e.Event)
                .ToList();
        }

        foreach (var e in matches)
        {
            yield return e;
        }

        await Task.CompletedTask;
    }

    public Task<IReadOnlyList<UtcHour>> GetHoursWithEventsAsync(EventType type, UtcHour from, UtcHour to, long afterSequence, long upToSequence, CancellationToken cancellationToken)
    {
        lock (sync)
        {
            IReadOnlyList<UtcHour> hours = events
                .Where(e => e.Event.Type == type && e.Sequence > afterSequence && e.Sequence <= upToSequence)
                .Select(e => UtcHour.Containing(e.Event.OccurredAt))
                .Where(hour => hour >= from && hour < to)
                .Distinct()
                .Order()
                .ToList();
            return Task.FromResult(hours);
        }
    }

    public Task<long> CountAsync(EventType type, CancellationToken cancellationToken)
    {
        lock (sync)
        {
            return Task.FromResult((long)events.Count(e => e.Event.Type == type));
        }
    }

    public Task<long> CountHourAsync(UtcHour hour, IReadOnlyCollection<EventType> types, long upToSequence, CancellationToken cancellationToken)
    {
        lock (sync)
        {
            return Task.FromResult((long)events.Count(e => types.Contains(e.Event.Type) && e.Sequence <= upToSequence && UtcHour.Containing(e.Event.OccurredAt) == hour));
        }
    }
}
