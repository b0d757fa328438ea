using System.Diagnostics.Metrics;
using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Aggregation.Columns;
using LambdaStats.Modules.Common;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.Speed;
using LambdaStats.Modules.View.Contracts;
using LambdaStats.Tests.Aggregation;
using LambdaStats.Tests.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace LambdaStats.Tests.Speed;

/// <summary>
/// The speed buffer keeps count, add, exists, projectionAdd and exact distinctCount states in
/// columns, and key values, group names and distinct values in a shared pool. These tests check that its snapshots and divergence checks see exactly the rows
/// that the accumulators of <see cref="AggregationDefinition.CreateRow"/> compute from the same
/// events.
/// </summary>
[TestFixture]
public sealed class SpeedBufferRowsTests
{
    private static readonly DateTimeOffset FirstHour = new(2026, 5, 4, 10, 0, 0, TimeSpan.Zero);
    private static readonly string[] Hubs = ["h1", "h2", "h3"];

    private ServiceProvider services = null!;

    [SetUp]
    public void SetUp() => services = new ServiceCollection().AddMetrics().BuildServiceProvider();

    [TearDown]
    public void TearDown() => services.Dispose();

    [TestCase(new[] { EventField.HubId }, 1)]
    [TestCase(new[] { EventField.HubId, EventField.MediaId }, 2)]
    [TestCase(new[] { EventField.HubId, EventField.MediaId, EventField.Network }, 3)]
    [TestCase(new[] { EventField.HubId, EventField.MediaId, EventField.Network, EventField.VisitorId }, 4)]
    public void Snapshot_RandomEvents_EqualsAccumulatorRows(EventField[] key, int seed)
    {
        var definition = Definition(key);
        var events = RandomEvents(seed, 3_000, hours: 3);
        var buffer = new SpeedBuffer(definition);

        buffer.Add(events);

        var expected = ExpectedRows(definition, events);
        var actual = SnapshotRows(buffer, FirstHour, hours: 3);
        AssertSameRows(actual, expected);
    }

    [TestCase(new[] { EventField.HubId }, 1, 1)]
    [TestCase(new[] { EventField.HubId, EventField.MediaId }, 2, 20)]
    [TestCase(new[] { EventField.HubId, EventField.MediaId, EventField.Network }, 3, 50)]
    public void Snapshot_SpilledPairs_EqualsAccumulatorRows(EventField[] key, int seed, int pairsInMemory)
    {
        using var directory = new TemporaryDirectory();
        var scratch = new PairScratch(directory.Path, pairsInMemory);
        var definition = Definition(key);
        var events = RandomEvents(seed, 3_000, hours: 3);
        var buffer = new SpeedBuffer(definition, scratch: scratch);

        buffer.Add(events);

        AssertSameRows(SnapshotRows(buffer, FirstHour, hours: 3), ExpectedRows(definition, events));

        // Three hours, each with two projectionAdd and two exact distinctCount outputs past the budget.
        Assert.That(scratch.ListFiles(), Has.Count.EqualTo(12));
    }

    [Test]
    public void Complete_SpilledHours_DeletesScratchFiles()
    {
        using var directory = new TemporaryDirectory();
        var scratch = new PairScratch(directory.Path, pairsInMemory: 5);
        var definition = Definition([EventField.HubId, EventField.MediaId]);
        var events = RandomEvents(19, 2_000, hours: 2);
        var buffer = new SpeedBuffer(definition, scratch: scratch);
        buffer.Add(events);
        buffer.Seal(sequence: 2_000, rewritesFinalViews: false);
        Assert.That(scratch.ListFiles(), Has.Count.EqualTo(8));

        buffer.Complete(new BatchFrontier(UtcHour.Containing(FirstHour).Next, 2_000, UtcDay.MinValue));

        Assert.That(scratch.ListFiles(), Has.Count.EqualTo(4), "the second hour keeps its files");
        AssertSameRows(SnapshotRows(buffer, FirstHour, hours: 2), ExpectedRows(definition, events.Where(e => e.OccurredAt >= FirstHour.AddHours(1))));

        buffer.Complete(new BatchFrontier(UtcHour.Containing(FirstHour).AddHours(2), 2_000, UtcDay.MinValue));

        Assert.That(scratch.ListFiles(), Is.Empty);
    }

    [Test]
    public void Reset_SpilledHours_DeletesScratchFiles()
    {
        using var directory = new TemporaryDirectory();
        var scratch = new PairScratch(directory.Path, pairsInMemory: 5);
        var definition = Definition([EventField.HubId, EventField.MediaId]);
        var buffer = new SpeedBuffer(definition, scratch: scratch);
        buffer.Add(RandomEvents(20, 1_000, hours: 2));
        Assert.That(scratch.ListFiles(), Has.Count.EqualTo(8));

        var reloaded = RandomEvents(21, 1_000, hours: 1);
        buffer.Reset(BatchFrontier.Initial, reloaded);

        Assert.That(scratch.ListFiles(), Has.Count.EqualTo(4), "only the reloaded hour has files");
        AssertSameRows(SnapshotRows(buffer, FirstHour, hours: 2), ExpectedRows(definition, reloaded));
    }

    [Test]
    public void Snapshot_SecondFieldFilter_MatchesOnly()
    {
        var definition = Definition([EventField.HubId, EventField.MediaId]);
        var events = RandomEvents(5, 500, hours: 1);
        var buffer = new SpeedBuffer(definition);
        buffer.Add(events);

        var filter = new KeyFilter("h2", [new KeyCondition(1, "m3")]);
        var snapshot = buffer.TakeSnapshot(filter, UtcHour.Containing(FirstHour), UtcHour.Containing(FirstHour).Next);

        var expected = ExpectedRows(definition, events.Where(e => e.HubId == "h2" && e.MediaId == "m3"));
        AssertSameRows(snapshot.Rows.ToDictionary(row => (row.Hour, row.Key), row => row.Row), expected);
        Assert.That(snapshot.Rows, Is.Not.Empty, "the random events include h2/m3");
    }

    [Test]
    public void Snapshot_UnknownHub_CopiesBoundsButNoRows()
    {
        var definition = Definition([EventField.HubId, EventField.MediaId]);
        var buffer = new SpeedBuffer(definition);
        buffer.Add(RandomEvents(6, 100, hours: 1));

        var snapshot = buffer.TakeSnapshot(new KeyFilter("no-such-hub"), UtcHour.Containing(FirstHour), UtcHour.Containing(FirstHour).Next);

        Assert.That(snapshot.Rows, Is.Empty);
        Assert.That(snapshot.HourBounds.Keys, Is.EqualTo(new[] { UtcHour.Containing(FirstHour) }));
    }

    [Test]
    public void Snapshot_RowsAreCopies()
    {
        var definition = Definition([EventField.HubId, EventField.MediaId]);
        var events = RandomEvents(7, 400, hours: 1);
        var buffer = new SpeedBuffer(definition);
        buffer.Add(events);
        var before = SnapshotRows(buffer, FirstHour, hours: 1);

        buffer.Add(RandomEvents(8, 400, hours: 1));

        AssertSameRows(before, ExpectedRows(definition, events));
    }

    [Test]
    public void Complete_SealedHours_ReleasesRowsAndKeyValues()
    {
        var definition = Definition([EventField.HubId, EventField.MediaId, EventField.VisitorId]);
        var early = RandomEvents(9, 1_000, hours: 2);
        var late = RandomEvents(10, 1_000, hours: 3);
        var buffer = new SpeedBuffer(definition);

        buffer.Add(early);
        buffer.Seal(sequence: 1_000, rewritesFinalViews: false);
        buffer.Add(late);
        var watermark = UtcHour.Containing(FirstHour).AddHours(2);
        buffer.Complete(new BatchFrontier(watermark, 1_000, UtcDay.MinValue));

        // The sealed segment released both its hours; the open one keeps all three.
        var expected = ExpectedRows(definition, late);
        AssertSameRows(SnapshotRows(buffer, FirstHour, hours: 3), expected);
        Assert.That(buffer.PooledStringCount, Is.EqualTo(PooledStrings(definition, late)));

        buffer.Seal(sequence: 2_000, rewritesFinalViews: false);
        buffer.Complete(new BatchFrontier(watermark.AddHours(1), 2_000, UtcDay.MinValue));

        Assert.That(buffer.GetHeldHours(), Is.Empty);
        Assert.That(buffer.PooledStringCount, Is.Zero, "key values of released rows are dropped");
    }

    [Test]
    public void Add_AfterRelease_ReusesIdsWithoutMixingKeys()
    {
        var definition = Definition([EventField.HubId, EventField.MediaId]);
        var buffer = new SpeedBuffer(definition);
        buffer.Add(RandomEvents(11, 600, hours: 1));
        buffer.Seal(sequence: 600, rewritesFinalViews: false);
        buffer.Complete(new BatchFrontier(UtcHour.Containing(FirstHour).Next, 600, UtcDay.MinValue));

        // New values take the freed ids; each must still map to its own string.
        var events = RandomEvents(12, 600, hours: 1, mediaPrefix: "other-");
        buffer.Add(events);

        AssertSameRows(SnapshotRows(buffer, FirstHour, hours: 1), ExpectedRows(definition, events));
    }

    [Test]
    public void Complete_SameRowsAsBatch_FindsNoDivergence()
    {
        var definition = Definition([EventField.HubId, EventField.MediaId]);
        using var check = new DivergenceCheck(services.GetRequiredService<IMeterFactory>(), NullLogger<DivergenceCheck>.Instance);
        var buffer = new SpeedBuffer(definition, check);
        var first = RandomEvents(13, 800, hours: 2);
        var second = RandomEvents(14, 800, hours: 2);
        buffer.Add(first);
        buffer.Seal(sequence: 800, rewritesFinalViews: false);
        buffer.Add(second);
        buffer.Seal(sequence: 1_600, rewritesFinalViews: false);

        // The batch covers both sealed segments, so each hour's rows come from all events.
        var computed = BatchRows(definition, first.Concat(second));
        buffer.Complete(new BatchFrontier(UtcHour.Containing(FirstHour).AddHours(2), 1_600, UtcDay.MinValue), computed);

        Assert.That(check.Total, Is.Zero);
        Assert.That(buffer.GetHeldHours(), Is.Empty);
    }

    [Test]
    public void Complete_SpilledRowsAsBatch_FindsNoDivergence()
    {
        using var directory = new TemporaryDirectory();
        var definition = Definition([EventField.HubId, EventField.MediaId]);
        using var check = new DivergenceCheck(services.GetRequiredService<IMeterFactory>(), NullLogger<DivergenceCheck>.Instance);
        var buffer = new SpeedBuffer(definition, check, new PairScratch(directory.Path, pairsInMemory: 5));
        var events = RandomEvents(22, 1_600, hours: 2);
        buffer.Add(events);
        buffer.Seal(sequence: 1_600, rewritesFinalViews: false);

        buffer.Complete(new BatchFrontier(UtcHour.Containing(FirstHour).AddHours(2), 1_600, UtcDay.MinValue), BatchRows(definition, events));

        Assert.That(check.Total, Is.Zero);
        Assert.That(buffer.GetHeldHours(), Is.Empty);
        Assert.That(Directory.GetFiles(directory.Path), Is.Empty);
    }

    [Test]
    public void Complete_DifferentBatchRow_CountsOneDivergence()
    {
        var definition = Definition([EventField.HubId, EventField.MediaId]);
        using var check = new DivergenceCheck(services.GetRequiredService<IMeterFactory>(), NullLogger<DivergenceCheck>.Instance);
        var buffer = new SpeedBuffer(definition, check);
        var events = RandomEvents(15, 500, hours: 1);
        buffer.Add(events);
        buffer.Seal(sequence: 500, rewritesFinalViews: false);

        // The batch saw one more event for the key of the first event.
        var extra = new LambdaEvent { Id = "extra", Type = EventType.PageViewed, OccurredAt = FirstHour, HubId = events[0].HubId, MediaId = events[0].MediaId };
        var computed = BatchRows(definition, events.Append(extra));
        buffer.Complete(new BatchFrontier(UtcHour.Containing(FirstHour).Next, 500, UtcDay.MinValue), computed);

        Assert.That(check.Total, Is.EqualTo(1));
    }

    [Test]
    public void Complete_HubMissingFromBatch_CountsItsKeys()
    {
        var definition = Definition([EventField.HubId, EventField.MediaId]);
        using var check = new DivergenceCheck(services.GetRequiredService<IMeterFactory>(), NullLogger<DivergenceCheck>.Instance);
        var buffer = new SpeedBuffer(definition, check);
        var events = RandomEvents(17, 600, hours: 1);
        buffer.Add(events.Take(300).ToList());
        buffer.Seal(sequence: 300, rewritesFinalViews: false);
        buffer.Add(events.Skip(300).ToList());
        buffer.Seal(sequence: 600, rewritesFinalViews: false);

        // The batch lost every event of hub h3, so each of its keys in the two segments diverges once.
        var computed = BatchRows(definition, events.Where(e => e.HubId != "h3"));
        var missingKeys = events.Where(e => e.HubId == "h3").Select(e => definition.KeyOf(e)).Distinct().Count();
        buffer.Complete(new BatchFrontier(UtcHour.Containing(FirstHour).Next, 600, UtcDay.MinValue), computed);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(missingKeys, Is.GreaterThan(1));
            Assert.That(check.Total, Is.EqualTo(missingKeys));
        }
    }

    [Test]
    public void Complete_KeyMissingFromSpeed_CountsOneDivergence()
    {
        var definition = Definition([EventField.HubId, EventField.MediaId]);
        using var check = new DivergenceCheck(services.GetRequiredService<IMeterFactory>(), NullLogger<DivergenceCheck>.Instance);
        var buffer = new SpeedBuffer(definition, check);
        var events = RandomEvents(18, 500, hours: 1);
        buffer.Add(events);
        buffer.Seal(sequence: 500, rewritesFinalViews: false);

        // The batch has a key that no buffered event has.
        var extra = new LambdaEvent { Id = "extra", Type = EventType.PageViewed, OccurredAt = FirstHour, HubId = "h1", MediaId = "not buffered" };
        var computed = BatchRows(definition, events.Append(extra));
        buffer.Complete(new BatchFrontier(UtcHour.Containing(FirstHour).Next, 500, UtcDay.MinValue), computed);

        Assert.That(check.Total, Is.EqualTo(1));
    }

    [Test]
    public void CompareSlice_EachSliceMatches_FindsNoDivergence()
    {
        var definition = Definition([EventField.HubId, EventField.MediaId]);
        using var check = new DivergenceCheck(services.GetRequiredService<IMeterFactory>(), NullLogger<DivergenceCheck>.Instance);
        var buffer = new SpeedBuffer(definition, check);
        var events = RandomEvents(19, 900, hours: 1);
        buffer.Add(events);
        buffer.Seal(sequence: 900, rewritesFinalViews: false);

        // Each slice brings the rows of its hubs only; the other hubs' speed rows are not reported.
        foreach (var hubs in new[] { new[] { "h1" }, ["h2", "h3"] })
        {
            var slice = BatchRows(definition, events.Where(e => hubs.Contains(e.HubId))).Single();
            buffer.CompareSlice(slice.Bucket, 900, hubs.Contains, slice.Rows);
        }

        Assert.That(check.Total, Is.Zero);
        Assert.That(buffer.GetHeldHours(), Is.Not.Empty, "a slice releases nothing; the commit does");
    }

    [Test]
    public void CompareSlice_HubMissingFromBatch_CountsSliceKeysOnly()
    {
        var definition = Definition([EventField.HubId, EventField.MediaId]);
        using var check = new DivergenceCheck(services.GetRequiredService<IMeterFactory>(), NullLogger<DivergenceCheck>.Instance);
        var buffer = new SpeedBuffer(definition, check);
        var events = RandomEvents(20, 900, hours: 1);
        buffer.Add(events);
        buffer.Seal(sequence: 900, rewritesFinalViews: false);
        var hour = UtcHour.Containing(FirstHour);

        // The slice of h2 and h3 lost every event of h3: each h3 key diverges once, and h1,
        // outside the slice, is not reported.
        var computed = BatchRows(definition, events.Where(e => e.HubId == "h2")).Single();
        buffer.CompareSlice(hour, 900, hub => hub is "h2" or "h3", computed.Rows);
        var missingKeys = events.Where(e => e.HubId == "h3").Select(e => definition.KeyOf(e)).Distinct().Count();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(missingKeys, Is.GreaterThan(1));
            Assert.That(check.Total, Is.EqualTo(missingKeys));
        }
    }

    [Test]
    public void CompareSlice_DifferentBatchRow_CountsOneDivergence()
    {
        var definition = Definition([EventField.HubId, EventField.MediaId]);
        using var check = new DivergenceCheck(services.GetRequiredService<IMeterFactory>(), NullLogger<DivergenceCheck>.Instance);
        var buffer = new SpeedBuffer(definition, check);
        var events = RandomEvents(21, 600, hours: 1);
        buffer.Add(events);
        buffer.Seal(sequence: 600, rewritesFinalViews: false);

        var first = events.First(e => e.HubId == "h1");
        var extra = new LambdaEvent { Id = "extra", Type = EventType.PageViewed, OccurredAt = FirstHour, HubId = "h1", MediaId = first.MediaId };
        var computed = BatchRows(definition, events.Where(e => e.HubId == "h1").Append(extra)).Single();
        buffer.CompareSlice(computed.Bucket, 600, hub => hub == "h1", computed.Rows);

        Assert.That(check.Total, Is.EqualTo(1));
    }

    [Test]
    public void Add_EventsOfOtherTypes_AreSkipped()
    {
        var definition = Definition([EventField.HubId, EventField.MediaId]);
        var events = RandomEvents(16, 300, hours: 1);
        var others = events.Select(e => new LambdaEvent { Id = "x" + e.Id, Type = EventType.MediaOpened, OccurredAt = e.OccurredAt, HubId = e.HubId, MediaId = e.MediaId }).ToList();
        var buffer = new SpeedBuffer(definition);

        buffer.Add(events.Concat(others).ToList());

        AssertSameRows(SnapshotRows(buffer, FirstHour, hours: 1), ExpectedRows(definition, events));
    }

    [Test]
    public void Reset_ReplacesRowsAndKeyValues()
    {
        var definition = Definition([EventField.HubId, EventField.MediaId]);
        var buffer = new SpeedBuffer(definition);
        buffer.Add(RandomEvents(17, 300, hours: 2));
        var reloaded = RandomEvents(18, 300, hours: 1, mediaPrefix: "reloaded-");

        buffer.Reset(BatchFrontier.Initial, reloaded);

        AssertSameRows(SnapshotRows(buffer, FirstHour, hours: 2), ExpectedRows(definition, reloaded));
        Assert.That(buffer.PooledStringCount, Is.EqualTo(PooledStrings(definition, reloaded)));
    }

    private static AggregationDefinition Definition(EventField[] key) =>
        new("rows", EventType.PageViewed, key, ColumnTestEvents.EveryAggregator);

    /// <summary>
    /// Creates page events over three hubs, 12 media, 3 networks, 40 visitors and 12 pages (more
    /// than a projectionAdd row keeps in its array), in <paramref name="hours"/> hours from
    /// <see cref="FirstHour"/>, in random order. Every string is a new instance, as the JSON
    /// parser makes them, and one event in six lacks each optional field. Durations are fractional, so sums in another order would differ in the last bits.
    /// </summary>
    private static List<LambdaEvent> RandomEvents(int seed, int count, int hours, string mediaPrefix = "m")
    {
        var random = new Random(seed);
        var events = new List<LambdaEvent>(count);
        for (var i = 0; i < count; i++)
        {
            events.Add(new LambdaEvent
            {
                Id = $"e{seed}-{i}",
                Type = EventType.PageViewed,
                OccurredAt = FirstHour.AddSeconds(random.Next(hours * 3600)),
                HubId = new string(Hubs[random.Next(Hubs.Length)].AsSpan()),
                MediaId = random.Next(6) == 0 ? null : string.Concat(mediaPrefix, random.Next(12).ToString(System.Globalization.CultureInfo.InvariantCulture)),
                Network = random.Next(6) == 0 ? null : string.Concat("n", random.Next(3).ToString(System.Globalization.CultureInfo.InvariantCulture)),
                VisitorId = random.Next(6) == 0 ? null : string.Concat("v", random.Next(40).ToString(System.Globalization.CultureInfo.InvariantCulture)),
                Page = random.Next(6) == 0 ? null : random.Next(1, 13),
                DurationSeconds = random.Next(6) == 0 ? null : random.NextDouble() * 300,
            });
        }

        return events;
    }

    private static Dictionary<(UtcHour Hour, AggregationKey Key), AggregateRow> ExpectedRows(AggregationDefinition definition, IEnumerable<LambdaEvent> events)
    {
        var rows = new Dictionary<(UtcHour, AggregationKey), AggregateRow>();
        foreach (var e in events)
        {
            var slot = (UtcHour.Containing(e.OccurredAt), definition.KeyOf(e));
            if (!rows.TryGetValue(slot, out var row))
            {
                row = definition.CreateRow();
                rows.Add(slot, row);
            }

            row.Add(e);
        }

        return rows;
    }

    private static List<BucketRows<UtcHour>> BatchRows(AggregationDefinition definition, IEnumerable<LambdaEvent> events) =>
        ExpectedRows(definition, events)
            .GroupBy(pair => pair.Key.Hour)
            .Select(hour => new BucketRows<UtcHour>(hour.Key, hour.ToDictionary(pair => pair.Key.Key, pair => pair.Value)))
            .ToList();

    /// <summary>
    /// Counts the distinct key values, group names and exact distinctCount values: the pages that
    /// secondsByPage groups by (those of events with a duration), the networks of viewsByNetwork
    /// and networks, and the visitors of readers.
    /// </summary>
    private static int PooledStrings(AggregationDefinition definition, IEnumerable<LambdaEvent> events) =>
        events.SelectMany(e => definition.KeyOf(e).ToArray())
            .Concat(events.Where(e => e.Page is not null && e.DurationSeconds is not null).Select(e => EventFields.GetString(e, EventField.Page)!))
            .Concat(events.Where(e => e.Network is not null).Select(e => e.Network!))
            .Concat(events.Where(e => e.VisitorId is not null).Select(e => e.VisitorId!))
            .Distinct(StringComparer.Ordinal)
            .Count();

    /// <summary>Takes one snapshot per hub and merges rows of the same hour and key from different segments.</summary>
    private static Dictionary<(UtcHour Hour, AggregationKey Key), AggregateRow> SnapshotRows(SpeedBuffer buffer, DateTimeOffset from, int hours)
    {
        var rows = new Dictionary<(UtcHour, AggregationKey), AggregateRow>();
        foreach (var hub in Hubs)
        {
            var snapshot = buffer.TakeSnapshot(new KeyFilter(hub), UtcHour.Containing(from), UtcHour.Containing(from).AddHours(hours));
            foreach (var row in snapshot.Rows)
            {
                if (rows.TryGetValue((row.Hour, row.Key), out var merged))
                {
                    merged.Merge(row.Row);
                }
                else
                {
                    rows.Add((row.Hour, row.Key), row.Row);
                }
            }
        }

        return rows;
    }

    /// <summary>Compares the serialised states byte for byte: every double must be bit-identical.</summary>
    private static void AssertSameRows(
        Dictionary<(UtcHour Hour, AggregationKey Key), AggregateRow> actual,
        Dictionary<(UtcHour Hour, AggregationKey Key), AggregateRow> expected)
    {
        Assert.That(actual.Keys, Is.EquivalentTo(expected.Keys));
        foreach (var (slot, row) in expected)
        {
            Assert.That(actual[slot].SerializeState(), Is.EqualTo(row.SerializeState()), $"{slot.Hour.Start:u} {slot.Key}");
        }
    }
}
