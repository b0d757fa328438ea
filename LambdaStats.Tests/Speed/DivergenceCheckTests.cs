using System.Diagnostics.Metrics;
using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Aggregation.Columns;
using LambdaStats.Modules.Common;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.Speed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using NSubstitute;

namespace LambdaStats.Tests.Speed;

/// <summary>The divergence check compares states field by field as its JSON comparison did, and counts each divergent key once.</summary>
[TestFixture]
public sealed class DivergenceCheckTests
{
    private static readonly DateTimeOffset Hour = new(2026, 5, 20, 9, 0, 0, TimeSpan.Zero);

    private static readonly AggregationDefinition EveryKind = new(
        "everyKind",
        EventType.PageViewed,
        [EventField.HubId, EventField.MediaId],
        [
            new OutputDefinition("views", AggregatorKind.Count),
            new OutputDefinition("seconds", AggregatorKind.Add, EventField.DurationSeconds),
            new OutputDefinition("viewed", AggregatorKind.Exists),
            new OutputDefinition("secondsByPage", AggregatorKind.ProjectionAdd, EventField.DurationSeconds, EventField.Page),
            new OutputDefinition("firstPage", AggregatorKind.Min, EventField.Page),
            new OutputDefinition("longest", AggregatorKind.Max, EventField.DurationSeconds),
            new OutputDefinition("readers", AggregatorKind.DistinctCount, EventField.VisitorId),
            new OutputDefinition("readersHll", AggregatorKind.DistinctCount, EventField.VisitorId, mode: DistinctCountMode.HyperLogLog),
        ]);

    private ServiceProvider services = null!;

    [SetUp]
    public void SetUp() => services = new ServiceCollection().AddMetrics().BuildServiceProvider();

    [TearDown]
    public void TearDown() => services.Dispose();

    [Test]
    public void AreEquivalent_RandomRows_MatchesJsonComparison()
    {
        var random = new Random(7);
        var outcomes = new HashSet<bool>();
        for (var round = 0; round < 400; round++)
        {
            var events = Enumerable.Range(0, random.Next(0, 12)).Select(i => RandomEvent(random, i)).ToList();
            var other = (round % 5) switch
            {
                0 => events,
                1 => Enumerable.Reverse(events).ToList(),
                2 => events.Skip(1).ToList(),
                3 => events.Select((e, i) => i == 0 ? Changed(e, random) : e).ToList(),
                _ => events.Append(RandomEvent(random, 99)).ToList(),
            };
            var left = Row(events);
            var right = Row(other);

            var expected = left.Outputs.Zip(right.Outputs).All(pair => DivergenceCheck.AreStatesEquivalent(pair.First, pair.Second));
            outcomes.Add(expected);
            Assert.That(DivergenceCheck.AreEquivalent(left, right), Is.EqualTo(expected), $"round {round}");
        }

        Assert.That(outcomes, Is.EquivalentTo(new[] { true, false }), "the rounds cover equivalent and divergent rows");
    }

    [Test]
    public void AreEquivalent_SumsInOtherOrder_AreEquivalent()
    {
        var events = new[] { 0.1, 0.2, 0.3 }.Select((seconds, i) => Event(i, "v1", page: 1, seconds)).ToList();

        var row = Row(events);
        var reversed = Row(Enumerable.Reverse(events));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(((AddAccumulator)row.Outputs[1]).Value, Is.Not.EqualTo(((AddAccumulator)reversed.Outputs[1]).Value), "the two orders differ in the last bits");
            Assert.That(DivergenceCheck.AreEquivalent(row, reversed), Is.True);
        }
    }

    [Test]
    public void Compare_KeysOnEitherSide_CountsEachOnce()
    {
        using var check = new DivergenceCheck(services.GetRequiredService<IMeterFactory>(), NullLogger<DivergenceCheck>.Instance);
        var same = Row([Event(1, "v1", 1, 2.0)]);
        var speed = new Dictionary<AggregationKey, AggregateRow>
        {
            [Key("same")] = same,
            [Key("changed")] = Row([Event(2, "v1", 1, 2.0)]),
            [Key("speed only")] = Row([Event(3, "v2", 2, 1.0)]),
        };
        var batch = new Dictionary<AggregationKey, AggregateRow>
        {
            [Key("same")] = same.Clone(),
            [Key("changed")] = Row([Event(2, "v1", 1, 2.0), Event(4, "v3", 1, 1.0)]),
            [Key("batch only")] = Row([Event(5, "v2", 2, 1.0)]),
            [Key("batch only too")] = Row([Event(6, "v2", 2, 1.0)]),
        };

        var divergent = check.Compare(EveryKind, UtcHour.Containing(Hour), new DictionarySpeedHourRows(speed), batch);
        var nothingBuffered = check.Compare(EveryKind, UtcHour.Containing(Hour), new DictionarySpeedHourRows([]), batch);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(divergent, Is.EqualTo(4));
            Assert.That(nothingBuffered, Is.EqualTo(4));
            Assert.That(check.Total, Is.EqualTo(8));
        }
    }

    [Test]
    public void Compare_EqualHubs_CopiesEachHubOnce()
    {
        using var check = new DivergenceCheck(services.GetRequiredService<IMeterFactory>(), NullLogger<DivergenceCheck>.Instance);
        var batch = new Dictionary<AggregationKey, AggregateRow>
        {
            [new(["hub-1", "m1"])] = Row([Event(1, "v1", 1, 2.0)]),
            [new(["hub-1", "m2"])] = Row([Event(2, "v2", 2, 1.0)]),
            [new(["hub-2", "m1"])] = Row([Event(3, "v1", 1, 3.0)]),
        };
        var speed = Substitute.For<ISpeedHourRows>();
        speed.When(rows => rows.CopyHub(Arg.Any<string>(), Arg.Any<Dictionary<AggregationKey, AggregateRow>>()))
            .Do(call => CopyMatching(batch, key => key[0] == call.ArgAt<string>(0), call.ArgAt<Dictionary<AggregationKey, AggregateRow>>(1)));

        var divergent = check.Compare(EveryKind, UtcHour.Containing(Hour), speed, batch);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(divergent, Is.Zero);
            speed.Received(1).CopyHub("hub-1", Arg.Any<Dictionary<AggregationKey, AggregateRow>>());
            speed.Received(1).CopyHub("hub-2", Arg.Any<Dictionary<AggregationKey, AggregateRow>>());
            speed.Received(2).CopyHub(Arg.Any<string>(), Arg.Any<Dictionary<AggregationKey, AggregateRow>>());
            speed.Received(1).CopyOtherHubs(Arg.Is<IReadOnlySet<string>>(hubs => hubs.SetEquals(new[] { "hub-1", "hub-2" })), null, Arg.Any<Dictionary<AggregationKey, AggregateRow>>());
        }
    }

    [Test]
    public void Compare_SpeedOnlyHub_CountsItsKeys()
    {
        using var check = new DivergenceCheck(services.GetRequiredService<IMeterFactory>(), NullLogger<DivergenceCheck>.Instance);
        var row = Row([Event(1, "v1", 1, 2.0)]);
        var batch = new Dictionary<AggregationKey, AggregateRow> { [new(["hub-1", "m1"])] = row };
        var speed = new Dictionary<AggregationKey, AggregateRow>
        {
            [new(["hub-1", "m1"])] = row.Clone(),
            [new(["hub-9", "m1"])] = Row([Event(2, "v1", 1, 2.0)]),
            [new(["hub-9", "m2"])] = Row([Event(3, "v2", 1, 2.0)]),
        };

        var divergent = check.Compare(EveryKind, UtcHour.Containing(Hour), new DictionarySpeedHourRows(speed), batch);

        Assert.That(divergent, Is.EqualTo(2));
    }

    private static void CopyMatching(IReadOnlyDictionary<AggregationKey, AggregateRow> rows, Func<AggregationKey, bool> matches, Dictionary<AggregationKey, AggregateRow> destination)
    {
        foreach (var (key, row) in rows)
        {
            if (matches(key))
            {
                destination.Add(key, row.Clone());
            }
        }
    }

    private static AggregationKey Key(string media) => new(["hub-1", media]);

    private static AggregateRow Row(IEnumerable<LambdaEvent> events)
    {
        var row = EveryKind.CreateRow();
        foreach (var e in events)
        {
            row.Add(e);
        }

        return row;
    }

    private static LambdaEvent RandomEvent(Random random, int index) =>
        Event(index, random.Next(3) == 0 ? null : $"v{random.Next(6)}", random.Next(4) == 0 ? null : random.Next(1, 4), random.Next(4) == 0 ? null : random.Next(1, 100) / 10.0);

    /// <summary>The same event with a duration changed either by far less than the check's tolerance or by a visible amount.</summary>
    private static LambdaEvent Changed(LambdaEvent e, Random random) =>
        Event(0, e.VisitorId, e.Page, (e.DurationSeconds ?? 1.0) * (random.Next(2) == 0 ? 1 + 1e-13 : 1.5));

    private static LambdaEvent Event(int index, string? visitor, int? page, double? seconds) => new()
    {
        Id = $"e{index}",
        Type = EventType.PageViewed,
        OccurredAt = Hour,
        HubId = "hub-1",
        MediaId = "media-1",
        VisitorId = visitor,
        Page = page,
        DurationSeconds = seconds,
    };

    /// <summary>Speed rows of one hour held in one dictionary, read one hub at a time as the speed buffer reads its segments.</summary>
    private sealed class DictionarySpeedHourRows(Dictionary<AggregationKey, AggregateRow> rows) : ISpeedHourRows
    {
        public void CopyHub(string hubId, Dictionary<AggregationKey, AggregateRow> destination) =>
            CopyMatching(rows, key => key[0] == hubId, destination);

        public void CopyOtherHubs(IReadOnlySet<string> hubIds, Func<string, bool>? containsHub, Dictionary<AggregationKey, AggregateRow> destination) =>
            CopyMatching(rows, key => !hubIds.Contains(key[0]) && (containsHub is null || containsHub(key[0])), destination);
    }
}
