using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Aggregation.Columns;
using LambdaStats.Modules.Events.Contracts;

namespace LambdaStats.Tests.Aggregation;

/// <summary>
/// The batch reads the rows it computed through <see cref="HourRowsDictionary"/>, which makes
/// each row from the columns when it is read. These tests check that every way of reading gives
/// the rows that the accumulators of <see cref="AggregationDefinition.CreateRow"/> compute from
/// the same events, bit for bit.
/// </summary>
[TestFixture]
public sealed class HourRowsDictionaryTests
{
    [TestCase(new[] { EventField.HubId }, 1)]
    [TestCase(new[] { EventField.HubId, EventField.MediaId }, 2)]
    [TestCase(new[] { EventField.HubId, EventField.MediaId, EventField.Network }, 3)]
    [TestCase(new[] { EventField.HubId, EventField.MediaId, EventField.Network, EventField.VisitorId }, 4)]
    public void Read_RandomEvents_EqualsAccumulatorRows(EventField[] key, int seed)
    {
        var definition = new AggregationDefinition("rows", EventType.PageViewed, key, ColumnTestEvents.EveryAggregator);
        var events = RandomEvents(seed, 2_000);
        var rows = Fill(definition, events);
        var expected = ExpectedRows(definition, events);

        var enumerated = rows.ToList();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(rows, Has.Count.EqualTo(expected.Count));
            Assert.That(rows.Keys, Is.EquivalentTo(expected.Keys));
            Assert.That(enumerated.Select(pair => pair.Key), Is.EqualTo(rows.Keys), "rows come in the order of the keys");
            foreach (var (k, row) in enumerated)
            {
                Assert.That(row.SerializeState(), Is.EqualTo(expected[k].SerializeState()), $"enumerated {k}");
            }

            foreach (var (k, row) in expected)
            {
                Assert.That(rows.ContainsKey(k), Is.True, $"contains {k}");
                Assert.That(rows.TryGetValue(k, out var read), Is.True, $"finds {k}");
                Assert.That(read!.SerializeState(), Is.EqualTo(row.SerializeState()), $"looked up {k}");
            }
        }
    }

    [Test]
    public void Keys_ManyHubs_GroupedByHub()
    {
        var definition = new AggregationDefinition("rows", EventType.PageViewed, [EventField.HubId, EventField.MediaId, EventField.Network], ColumnTestEvents.EveryAggregator);
        var rows = Fill(definition, RandomEvents(5, 3_000));

        var runs = new List<string>();
        foreach (var k in rows.Keys)
        {
            if (runs.Count == 0 || runs[^1] != k[0])
            {
                runs.Add(k[0]);
            }
        }

        Assert.That(runs, Is.Unique.And.Count.EqualTo(6));
    }

    [Test]
    public void Lookup_UnknownKeys_FindsNothing()
    {
        var definition = new AggregationDefinition("rows", EventType.PageViewed, [EventField.HubId, EventField.MediaId], ColumnTestEvents.EveryAggregator);
        var rows = Fill(definition, RandomEvents(6, 500));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(rows.TryGetValue(new AggregationKey(["h9", "m1"]), out _), Is.False, "unknown hub");
            Assert.That(rows.TryGetValue(new AggregationKey(["h1", "m99"]), out _), Is.False, "unknown media");
            Assert.That(rows.ContainsKey(new AggregationKey(["h1"])), Is.False, "key too short");
            Assert.That(rows.ContainsKey(new AggregationKey(["h1", "m1", "n1"])), Is.False, "key too long");
            Assert.That(() => rows[new AggregationKey(["h9", "m1"])], Throws.TypeOf<KeyNotFoundException>());
        }
    }

    [Test]
    public void Read_ChangedCopy_LeavesColumnsAlone()
    {
        var definition = new AggregationDefinition("rows", EventType.PageViewed, [EventField.HubId, EventField.MediaId], ColumnTestEvents.EveryAggregator);
        var events = RandomEvents(7, 500);
        var rows = Fill(definition, events);
        var k = definition.KeyOf(events[0]);
        var before = rows[k].SerializeState();

        var copy = rows[k];
        copy.Add(events[0]);
        copy.Merge(rows[definition.KeyOf(events[1])]);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(copy, Is.Not.SameAs(rows[k]));
            Assert.That(copy.SerializeState(), Is.Not.EqualTo(before), "the copy changed");
            Assert.That(rows[k].SerializeState(), Is.EqualTo(before));
        }
    }

    private static HourRowsDictionary Fill(AggregationDefinition definition, IEnumerable<LambdaEvent> events)
    {
        var columns = new HourRows(definition, new RowStringPool());
        foreach (var e in events)
        {
            columns.Add(e);
        }

        return new HourRowsDictionary(columns);
    }

    private static Dictionary<AggregationKey, AggregateRow> ExpectedRows(AggregationDefinition definition, IEnumerable<LambdaEvent> events)
    {
        var rows = new Dictionary<AggregationKey, AggregateRow>();
        foreach (var e in events)
        {
            var k = definition.KeyOf(e);
            if (!rows.TryGetValue(k, out var row))
            {
                rows.Add(k, row = definition.CreateRow());
            }

            row.Add(e);
        }

        return rows;
    }

    /// <summary>
    /// Page events of one hour over six hubs, 12 media, 3 networks, 40 visitors and 12 pages, in
    /// random order. Every string is a new instance, and one event in six lacks each optional
    /// field. Durations are fractional, so sums in another order would differ in the last bits.
    /// </summary>
    private static List<LambdaEvent> RandomEvents(int seed, int count)
    {
        var random = new Random(seed);
        string Text(string prefix, int bound) => string.Concat(prefix, random.Next(bound).ToString(System.Globalization.CultureInfo.InvariantCulture));
        var events = new List<LambdaEvent>(count);
        for (var i = 0; i < count; i++)
        {
            events.Add(new LambdaEvent
            {
                Id = $"e{seed}-{i}",
                Type = EventType.PageViewed,
                OccurredAt = ColumnTestEvents.Hour.AddSeconds(random.Next(3600)),
                HubId = Text("h", 6),
                MediaId = random.Next(6) == 0 ? null : Text("m", 12),
                Network = random.Next(6) == 0 ? null : Text("n", 3),
                VisitorId = random.Next(6) == 0 ? null : Text("v", 40),
                Page = random.Next(6) == 0 ? null : random.Next(1, 13),
                DurationSeconds = random.Next(6) == 0 ? null : random.NextDouble() * 300,
            });
        }

        return events;
    }
}
