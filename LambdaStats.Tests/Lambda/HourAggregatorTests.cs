using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Batch;
using LambdaStats.Modules.Common;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Tests.Storage;
using LambdaStats.Tests.Support;

namespace LambdaStats.Tests.Lambda;

/// <summary>One read of an hour for every aggregation gives the rows that one scan per aggregation gives, state for state.</summary>
[TestFixture]
public sealed class HourAggregatorTests
{
    private static readonly UtcHour Hour = UtcHour.StartingAt(new DateTimeOffset(2026, 5, 20, 9, 0, 0, TimeSpan.Zero));

    private static readonly EventType[] Types = [EventType.HubVisited, EventType.MediaOpened, EventType.PageViewed, EventType.MediaShared, EventType.ContactRequested];

    private static readonly AggregationDefinition[] Definitions =
    [
        new("opens", EventType.MediaOpened, [EventField.HubId, EventField.MediaId], [
            new OutputDefinition("opens", AggregatorKind.Count),
            new OutputDefinition("opened", AggregatorKind.Exists),
            new OutputDefinition("readers", AggregatorKind.DistinctCount, EventField.VisitorId)]),
        new("pages", EventType.PageViewed, [EventField.HubId, EventField.MediaId], [
            new OutputDefinition("views", AggregatorKind.Count),
            new OutputDefinition("seconds", AggregatorKind.Add, EventField.DurationSeconds),
            new OutputDefinition("secondsByPage", AggregatorKind.ProjectionAdd, EventField.DurationSeconds, EventField.Page),
            new OutputDefinition("viewsByPage", AggregatorKind.ProjectionAdd, groupBy: EventField.Page)]),
        new("pagesByHub", EventType.PageViewed, [EventField.HubId], [
            new OutputDefinition("firstPage", AggregatorKind.Min, EventField.Page),
            new OutputDefinition("longest", AggregatorKind.Max, EventField.DurationSeconds),
            new OutputDefinition("sessions", AggregatorKind.DistinctCount, EventField.SessionId)]),
        new("shares", EventType.MediaShared, [EventField.HubId, EventField.MediaId, EventField.Network], [
            new OutputDefinition("shares", AggregatorKind.Count)]),
        new("contacts", EventType.ContactRequested, [EventField.HubId], [
            new OutputDefinition("byKind", AggregatorKind.ProjectionAdd, groupBy: EventField.ContactKind)]),
        new("visits", EventType.HubVisited, [EventField.HubId], [
            new OutputDefinition("visitors", AggregatorKind.DistinctCount, EventField.VisitorId, mode: DistinctCountMode.HyperLogLog)]),
    ];

    private static IEnumerable<TestCaseData> Cases()
    {
        foreach (var sqlite in new[] { true, false })
        {
            for (var seed = 1; seed <= 4; seed++)
            {
                yield return new TestCaseData(sqlite, seed).SetArgDisplayNames(sqlite ? "sqlite" : "in memory", $"seed {seed}");
            }
        }
    }

    [TestCaseSource(nameof(Cases))]
    public async Task ComputeHour_RandomEvents_MatchesScanPerAggregation(bool sqlite, int seed)
    {
        using var directory = new TemporaryDirectory();
        var store = sqlite ? directory.OpenEventStore() : (IEventStore)new InMemoryEventStore();
        try
        {
            var random = new Random(seed);
            var maxSequence = await RandomHourEvents.AppendAsync(store, Hour, Types, random);
            var upTo = seed % 2 == 0 ? maxSequence : random.Next(1, (int)maxSequence);

            var computed = await HourAggregator.ComputeAsync(store, Definitions, Hour, upTo, HubSlice.Whole, CancellationToken.None);

            for (var i = 0; i < Definitions.Length; i++)
            {
                var expected = await ScanOneAsync(store, Definitions[i], upTo);
                var actual = computed[i].Rows;
                Assert.That(actual.Keys, Is.EquivalentTo(expected.Keys), Definitions[i].Name);
                foreach (var (key, row) in expected)
                {
                    Assert.That(actual.TryGetValue(key, out var other) ? other.SerializeState() : null, Is.EqualTo(row.SerializeState()), $"{Definitions[i].Name} {key}");
                }
            }
        }
        finally
        {
            (store as IDisposable)?.Dispose();
        }
    }

    [Test]
    public async Task ComputeHour_ReadFails_ThrowsReadError()
    {
        var store = new FailingScanStore(new InMemoryEventStore());
        await store.AppendAsync([new LambdaEvent { Id = "a", Type = EventType.MediaOpened, OccurredAt = Hour.Start, HubId = "hub-1" }], CancellationToken.None);

        Assert.That(
            async () => await HourAggregator.ComputeAsync(store, Definitions, Hour, 1, HubSlice.Whole, CancellationToken.None),
            Throws.InvalidOperationException.With.Message.EqualTo("disk gone"));
    }

    [Test]
    public async Task ComputeHour_AggregationFails_StopsReadAndThrows()
    {
        // Far more events of one hub than the channels hold, after one that no aggregation can
        // take: the read must not wait forever on the failed thread's full channel.
        var events = Enumerable.Range(0, 50_000)
            .Select(i => new LambdaEvent { Id = $"e{i}", Type = i == 10 ? (EventType)999 : EventType.MediaOpened, OccurredAt = Hour.Start, HubId = "hub-1", MediaId = "m1" })
            .ToList();
        var store = new FixedHourStore(new InMemoryEventStore(), events);

        var compute = HourAggregator.ComputeAsync(store, Definitions, Hour, long.MaxValue, HubSlice.Whole, CancellationToken.None);
        var finished = await Task.WhenAny(compute, Task.Delay(TimeSpan.FromSeconds(30)));

        Assert.That(finished, Is.SameAs(compute), "the computation still runs after 30 s");
        Assert.That(async () => await compute, Throws.TypeOf<IndexOutOfRangeException>());
    }

    [Test]
    public void FieldsRead_Definitions_CoverKeysAndOutputs()
    {
        Assert.That(
            HourAggregator.FieldsRead(Definitions),
            Is.EqualTo(new[] { EventField.HubId, EventField.MediaId, EventField.VisitorId, EventField.SessionId, EventField.Page, EventField.DurationSeconds, EventField.Network, EventField.ContactKind }));
    }

    private static async Task<Dictionary<AggregationKey, AggregateRow>> ScanOneAsync(IEventStore store, AggregationDefinition definition, long upTo)
    {
        var events = new List<LambdaEvent>();
        await foreach (var e in store.ScanAsync(definition.EventType, Hour.Start, Hour.End, 0, upTo, CancellationToken.None))
        {
            events.Add(e);
        }

        // GroupBy keeps the scan's order inside each key, so sums add in the same order.
        return events.GroupBy(definition.KeyOf).ToDictionary(group => group.Key, group =>
        {
            var row = definition.CreateRow();
            foreach (var e in group)
            {
                row.Add(e);
            }

            return row;
        });
    }

    /// <summary>An event store whose read of an hour returns a fixed list of events.</summary>
    private sealed class FixedHourStore(IEventStore inner, IReadOnlyList<LambdaEvent> events) : DelegatingEventStore(inner), IEventStore
    {
        async IAsyncEnumerable<LambdaEvent> IEventStore.ScanHourAsync(UtcHour hour, IReadOnlyCollection<EventType> types, IReadOnlyCollection<EventField> fields, long upToSequence, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
        {
            foreach (var e in events)
            {
                cancellationToken.ThrowIfCancellationRequested();
                yield return e;
            }

            await Task.CompletedTask;
        }
    }

    /// <summary>An event store whose scans fail after their first event.</summary>
    private sealed class FailingScanStore(IEventStore inner) : DelegatingEventStore(inner)
    {
        public override async IAsyncEnumerable<LambdaEvent> ScanAsync(EventType type, DateTimeOffset from, DateTimeOffset to, long afterSequence, long upToSequence, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await foreach (var e in base.ScanAsync(type, from, to, afterSequence, upToSequence, cancellationToken))
            {
                yield return e;
                throw new InvalidOperationException("disk gone");
            }
        }
    }
}
