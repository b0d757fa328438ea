using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Aggregation.Columns;
using LambdaStats.Modules.Common;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.Storage.Sqlite;
using LambdaStats.Modules.View.Contracts;
using Microsoft.Data.Sqlite;

namespace LambdaStats.Tests.Storage;

[TestFixture]
public sealed class SqliteViewStoreTests
{
    private static readonly UtcDay Day = UtcDay.Containing(new DateTimeOffset(2025, 3, 10, 0, 0, 0, TimeSpan.Zero));
    private static readonly UtcHour Hour = Day.FirstHour.AddHours(8);

    private static readonly AggregationDefinition MediaOpens = new(
        "media_opens",
        EventType.MediaOpened,
        [EventField.HubId, EventField.MediaId],
        [
            new OutputDefinition("opens", AggregatorKind.Count),
            new OutputDefinition("seconds", AggregatorKind.Add, field: EventField.DurationSeconds),
            new OutputDefinition("seen", AggregatorKind.Exists),
            new OutputDefinition("byNetwork", AggregatorKind.ProjectionAdd, groupBy: EventField.Network),
        ]);

    private static readonly AggregationDefinition HubVisits = new(
        "hub_visits",
        EventType.HubVisited,
        [EventField.HubId],
        [new OutputDefinition("visits", AggregatorKind.Count)]);

    /// <summary>Every aggregator kind, on a key of three fields.</summary>
    private static readonly AggregationDefinition AllKinds = new(
        "all_kinds",
        EventType.PageViewed,
        [EventField.HubId, EventField.MediaId, EventField.Network],
        [
            new OutputDefinition("views", AggregatorKind.Count),
            new OutputDefinition("seconds", AggregatorKind.Add, field: EventField.DurationSeconds),
            new OutputDefinition("seen", AggregatorKind.Exists),
            new OutputDefinition("viewsByPage", AggregatorKind.ProjectionAdd, groupBy: EventField.Page),
            new OutputDefinition("secondsByPage", AggregatorKind.ProjectionAdd, field: EventField.DurationSeconds, groupBy: EventField.Page),
            new OutputDefinition("shortest", AggregatorKind.Min, field: EventField.DurationSeconds),
            new OutputDefinition("longest", AggregatorKind.Max, field: EventField.DurationSeconds),
            new OutputDefinition("readers", AggregatorKind.DistinctCount, field: EventField.VisitorId),
            new OutputDefinition("readersEstimate", AggregatorKind.DistinctCount, field: EventField.VisitorId, mode: DistinctCountMode.HyperLogLog, precision: 10),
            new OutputDefinition("pages", AggregatorKind.DistinctCount, field: EventField.Page, mode: DistinctCountMode.Exact),
        ]);

    private TemporaryDirectory directory = null!;
    private SqliteViewStore store = null!;

    [SetUp]
    public void SetUp()
    {
        directory = new TemporaryDirectory();
        store = directory.OpenViewStore();
    }

    [TearDown]
    public void TearDown()
    {
        store.Dispose();
        directory.Dispose();
    }

    [Test]
    public async Task GetFrontierAsync_AfterCommitAndReopen_ReturnsCommittedFrontier()
    {
        var frontier = new BatchFrontier(Hour.AddHours(3), 12_345, Day.Next);
        await CommitAsync(MediaOpens, [], [], frontier);
        store.Dispose();
        store = directory.OpenViewStore();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(await store.GetFrontierAsync(MediaOpens.ViewId, CancellationToken.None), Is.EqualTo(frontier));
            Assert.That(await store.GetFrontierAsync(HubVisits.ViewId, CancellationToken.None), Is.EqualTo(BatchFrontier.Initial));
        }
    }

    [Test]
    public async Task WriteHourPart_HubWrittenTwice_Throws()
    {
        await store.WriteHourPartAsync(MediaOpens, HourRows(Hour, (Key("hub-1", "m-1"), Row(3))), replace: true, CancellationToken.None);

        Assert.That(
            async () => await store.WriteHourPartAsync(MediaOpens, HourRows(Hour, (Key("hub-1", "m-2"), Row(1))), replace: false, CancellationToken.None),
            Throws.InstanceOf<SqliteException>());
        Assert.That(Summaries(await ReadHoursAsync(MediaOpens, new KeyFilter("hub-1"), Hour, Hour.Next)), Is.EqualTo(new[] { "hub-1|m-1=3" }));
    }

    [Test]
    public async Task CommitAsync_SameDayTwice_ReplacesDailyRows()
    {
        await CommitAsync(MediaOpens, [], [DayRows(Day, (Key("hub-1", "m-1"), Row(3)), (Key("hub-1", "m-2"), Row(1)))]);

        await CommitAsync(MediaOpens, [], [DayRows(Day, (Key("hub-1", "m-2"), Row(8)))]);

        var rows = await ReadDaysAsync(MediaOpens, new KeyFilter("hub-1"), Day, Day.Next);
        Assert.That(Summaries(rows), Is.EqualTo(new[] { "hub-1|m-2=8" }));
    }

    [Test]
    public async Task CommitAsync_RowWithOtherOutputCount_LeavesPreviousState()
    {
        var previousFrontier = new BatchFrontier(Hour.Next, 10, Day);
        await CommitAsync(
            MediaOpens,
            [HourRows(Hour, (Key("hub-1", "m-1"), Row(1))), HourRows(Hour.Next, (Key("hub-1", "m-1"), Row(2)))],
            [DayRows(Day, (Key("hub-1", "m-1"), Row(3)))],
            previousFrontier);

        // The first hour and the day are valid. The second hour's row has one output instead of
        // four, so the commit fails after it has written the first hour.
        Assert.That(
            () => CommitAsync(
                MediaOpens,
                [HourRows(Hour, (Key("hub-1", "m-1"), Row(100))), HourRows(Hour.Next, (Key("hub-1", "m-1"), VisitRow(200)))],
                [DayRows(Day, (Key("hub-1", "m-1"), Row(300)))],
                new BatchFrontier(Hour.AddHours(2), 20, Day.Next)),
            Throws.ArgumentException.With.Message.Contains("1 outputs").And.Message.Contains(MediaOpens.Name));

        await AssertPreviousStateAsync(previousFrontier);
    }

    [Test]
    public async Task CommitAsync_CancelledMidway_LeavesPreviousState()
    {
        var previousFrontier = new BatchFrontier(Hour.Next, 10, Day);
        await CommitAsync(
            MediaOpens,
            [HourRows(Hour, (Key("hub-1", "m-1"), Row(1))), HourRows(Hour.Next, (Key("hub-1", "m-1"), Row(2)))],
            [DayRows(Day, (Key("hub-1", "m-1"), Row(3)))],
            previousFrontier);
        using var cancellation = new CancellationTokenSource();
        var hours = new CancellingList<BucketRows<UtcHour>>(
            [HourRows(Hour, (Key("hub-1", "m-1"), Row(100))), HourRows(Hour.Next, (Key("hub-1", "m-1"), Row(200)))],
            1,
            cancellation);

        Assert.That(
            () => store.CommitAsync(MediaOpens, hours, [DayRows(Day, (Key("hub-1", "m-1"), Row(300)))], new BatchFrontier(Hour.AddHours(2), 20, Day.Next), cancellation.Token),
            Throws.InstanceOf<OperationCanceledException>());

        await AssertPreviousStateAsync(previousFrontier);
    }

    [Test]
    public void CommitAsync_KeyWithOtherLength_Throws()
    {
        Assert.That(
            () => CommitAsync(MediaOpens, [HourRows(Hour, (Key("hub-1"), Row(1)))], []),
            Throws.ArgumentException.With.Message.Contains("key of 1 values"));
    }

    [Test]
    public async Task CommitAsync_EveryAccumulatorKind_RoundTripsState()
    {
        var row = MediaOpens.CreateRow();
        row.Add(Opened(duration: 1.25, network: "linkedin"));
        row.Add(Opened(duration: 2.5, network: "x"));
        row.Add(Opened(duration: null, network: "linkedin"));
        await CommitAsync(MediaOpens, [HourRows(Hour, (Key("hub-1", "m-1"), row))], []);

        var read = (await ReadHoursAsync(MediaOpens, new KeyFilter("hub-1"), Hour, Hour.Next)).Single().Row;

        using (Assert.EnterMultipleScope())
        {
            Assert.That(read.SerializeState(), Is.EqualTo(row.SerializeState()));
            Assert.That(((CountAccumulator)read.Outputs[0]).Value, Is.EqualTo(3));
            Assert.That(((AddAccumulator)read.Outputs[1]).Value, Is.EqualTo(3.75));
            Assert.That(((ExistsAccumulator)read.Outputs[2]).Value, Is.True);
            Assert.That(((ProjectionAddAccumulator)read.Outputs[3]).Groups, Is.EquivalentTo(new Dictionary<string, double> { ["linkedin"] = 2, ["x"] = 1 }));
        }
    }

    [Test]
    public async Task Commit_EveryKind_RoundTrips()
    {
        var full = AllKinds.CreateRow();
        for (var i = 0; i < 1_000; i++)
        {
            full.Add(Viewed($"v-{i % 300}", page: 1 + i % 45, duration: i % 7 == 0 ? null : i * 0.25 - 3));
        }

        var withoutDurations = AllKinds.CreateRow();
        withoutDurations.Add(Viewed("v-1", page: 2, duration: null));
        var empty = AllKinds.CreateRow();
        var rows = new[]
        {
            (Key("hub-1", "m-1", "x"), full),
            (Key("hub-1", "m-1", ""), withoutDurations),
            (Key("hub-1", "média-é", "linkedin"), empty),
        };
        await CommitAsync(AllKinds, [HourRows(Hour, rows)], [DayRows(Day, rows)]);

        var hours = await store.ReadHoursAsync(AllKinds, new KeyFilter("hub-1"), Hour, Hour.Next, CancellationToken.None);
        var days = await store.ReadDaysAsync(AllKinds, new KeyFilter("hub-1"), Day, Day.Next, CancellationToken.None);
        var dayHours = await store.ReadDayHoursAsync(AllKinds, Day, CancellationToken.None);

        var expected = rows.ToDictionary(pair => pair.Item1.ToString(), pair => Json(pair.Item2));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(hours.ToDictionary(row => row.Key.ToString(), row => Json(row.Row)), Is.EqualTo(expected));
            Assert.That(days.ToDictionary(row => row.Key.ToString(), row => Json(row.Row)), Is.EqualTo(expected));
            Assert.That(dayHours.Single().Rows.ToDictionary(pair => pair.Key.ToString(), pair => Json(pair.Value)), Is.EqualTo(expected));
            Assert.That(((CountAccumulator)hours.Single(row => row.Key[2] == "x").Row.Outputs[0]).Value, Is.EqualTo(1_000));
            Assert.That(((HyperLogLogDistinctCountAccumulator)hours.Single(row => row.Key[2] == "x").Row.Outputs[8]).Sketch.EstimateCount(), Is.EqualTo(((HyperLogLogDistinctCountAccumulator)full.Outputs[8]).Sketch.EstimateCount()));
            Assert.That(((MinAccumulator)hours.Single(row => row.Key[1] == "média-é").Row.Outputs[5]).Value, Is.Null);
        }
    }

    [Test]
    public async Task Commit_ManyKeys_OneRowPerHub()
    {
        var keys = Enumerable.Range(0, 500).Select(i => (Key("hub-1", $"m-{i}"), Row(1 + i % 3))).Append((Key("hub-2", "m-1"), Row(9))).ToArray();

        await CommitAsync(MediaOpens, [HourRows(Hour, keys)], []);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(CountTableRows("hourly_blocks"), Is.EqualTo(2));
            Assert.That(await ReadHoursAsync(MediaOpens, new KeyFilter("hub-1"), Hour, Hour.Next), Has.Count.EqualTo(500));
            Assert.That(Summaries(await ReadHoursAsync(MediaOpens, new KeyFilter("hub-1", [new KeyCondition(1, "m-499")]), Hour, Hour.Next)), Is.EqualTo(new[] { "hub-1|m-499=2" }));
        }
    }

    [Test]
    public async Task Commit_InterleavedHubs_BlockPerHub()
    {
        await CommitAsync(
            MediaOpens,
            [HourRows(Hour, (Key("hub-1", "m-1"), Row(1)), (Key("hub-2", "m-1"), Row(2)), (Key("hub-1", "m-2"), Row(3)), (Key("hub-2", "m-2"), Row(4)), (Key("hub-1", "m-3"), Row(5)))],
            []);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(CountTableRows("hourly_blocks"), Is.EqualTo(2));
            Assert.That(Summaries(await ReadHoursAsync(MediaOpens, new KeyFilter("hub-1"), Hour, Hour.Next)), Is.EquivalentTo(new[] { "hub-1|m-1=1", "hub-1|m-2=3", "hub-1|m-3=5" }));
            Assert.That(Summaries(await ReadHoursAsync(MediaOpens, new KeyFilter("hub-2"), Hour, Hour.Next)), Is.EquivalentTo(new[] { "hub-2|m-1=2", "hub-2|m-2=4" }));
        }
    }

    [Test]
    public async Task Commit_ColumnRows_RoundTripState()
    {
        var columns = new Modules.Aggregation.Columns.HourRows(MediaOpens, new RowStringPool());
        var expected = new Dictionary<AggregationKey, AggregateRow>();
        for (var i = 0; i < 300; i++)
        {
            var e = Opened(duration: i % 7, network: i % 3 == 0 ? "linkedin" : "email", hubId: $"hub-{i % 4}", mediaId: $"m-{i % 11}");
            columns.Add(e);
            var key = MediaOpens.KeyOf(e);
            if (!expected.TryGetValue(key, out var row))
            {
                expected.Add(key, row = MediaOpens.CreateRow());
            }

            row.Add(e);
        }

        await CommitAsync(MediaOpens, [new BucketRows<UtcHour>(Hour, new HourRowsDictionary(columns))], []);

        var read = new List<KeyedRow>();
        for (var hub = 0; hub < 4; hub++)
        {
            read.AddRange(await ReadHoursAsync(MediaOpens, new KeyFilter($"hub-{hub}"), Hour, Hour.Next));
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(CountTableRows("hourly_blocks"), Is.EqualTo(4));
            Assert.That(read.Select(row => row.Key), Is.EquivalentTo(expected.Keys));
            foreach (var row in read)
            {
                Assert.That(Json(row.Row), Is.EqualTo(Json(expected[row.Key])), row.Key.ToString());
            }
        }
    }

    [Test]
    public async Task Commit_EmptyHub_DeletesBlock()
    {
        await CommitAsync(MediaOpens, [HourRows(Hour, (Key("hub-1", "m-1"), Row(1)), (Key("hub-2", "m-1"), Row(2)))], [DayRows(Day, (Key("hub-1", "m-1"), Row(3)), (Key("hub-2", "m-1"), Row(4)))]);

        await CommitAsync(MediaOpens, [HourRows(Hour, (Key("hub-2", "m-2"), Row(5)))], [DayRows(Day, (Key("hub-2", "m-1"), Row(6)))]);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(await ReadHoursAsync(MediaOpens, new KeyFilter("hub-1"), Hour, Hour.Next), Is.Empty);
            Assert.That(await ReadDaysAsync(MediaOpens, new KeyFilter("hub-1"), Day, Day.Next), Is.Empty);
            Assert.That(Summaries(await ReadHoursAsync(MediaOpens, new KeyFilter("hub-2"), Hour, Hour.Next)), Is.EqualTo(new[] { "hub-2|m-2=5" }));
            Assert.That(Summaries(await ReadDaysAsync(MediaOpens, new KeyFilter("hub-2"), Day, Day.Next)), Is.EqualTo(new[] { "hub-2|m-1=6" }));
            Assert.That(CountTableRows("hourly_blocks") + CountTableRows("daily_blocks"), Is.EqualTo(2));
        }
    }

    [Test]
    public async Task ReadHours_KeyConditions_FilterRows()
    {
        var row = AllKinds.CreateRow();
        row.Add(Viewed("v-1", page: 1, duration: 1));
        await CommitAsync(
            AllKinds,
            [HourRows(Hour, (Key("hub-1", "m-1", "x"), row), (Key("hub-1", "m-2", "x"), row), (Key("hub-1", "m-1", "email"), row), (Key("hub-2", "m-1", "x"), row))],
            []);

        var byNetwork = await store.ReadHoursAsync(AllKinds, new KeyFilter("hub-1", [new KeyCondition(2, "x")]), Hour, Hour.Next, CancellationToken.None);
        var byBoth = await store.ReadHoursAsync(AllKinds, new KeyFilter("hub-1", [new KeyCondition(1, "m-1"), new KeyCondition(2, "x")]), Hour, Hour.Next, CancellationToken.None);
        var sameHub = await store.ReadHoursAsync(AllKinds, new KeyFilter("hub-1", [new KeyCondition(0, "hub-1"), new KeyCondition(1, "m-2")]), Hour, Hour.Next, CancellationToken.None);
        var otherHub = await store.ReadHoursAsync(AllKinds, new KeyFilter("hub-1", [new KeyCondition(0, "hub-2")]), Hour, Hour.Next, CancellationToken.None);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(byNetwork.Select(r => r.Key.ToString()), Is.EquivalentTo(new[] { "hub-1|m-1|x", "hub-1|m-2|x" }));
            Assert.That(byBoth.Select(r => r.Key.ToString()), Is.EqualTo(new[] { "hub-1|m-1|x" }));
            Assert.That(sameHub.Select(r => r.Key.ToString()), Is.EqualTo(new[] { "hub-1|m-2|x" }));
            Assert.That(otherHub, Is.Empty);
        }
    }

    [Test]
    public async Task ReadHoursAsync_HubFilter_ReturnsOnlyThatHub()
    {
        await CommitAsync(
            MediaOpens,
            [
                HourRows(Hour, (Key("hub-1", "m-1"), Row(1)), (Key("hub-2", "m-1"), Row(2)), (Key("hub-1", "m-2"), Row(3))),
                HourRows(Hour.Next, (Key("hub-2", "m-3"), Row(4))),
            ],
            []);

        var hub1 = await ReadHoursAsync(MediaOpens, new KeyFilter("hub-1"), Hour, Hour.AddHours(2));
        var hub2 = await ReadHoursAsync(MediaOpens, new KeyFilter("hub-2"), Hour, Hour.AddHours(2));
        var hub3 = await ReadHoursAsync(MediaOpens, new KeyFilter("hub-3"), Hour, Hour.AddHours(2));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(Summaries(hub1), Is.EquivalentTo(new[] { "hub-1|m-1=1", "hub-1|m-2=3" }));
            Assert.That(Summaries(hub2), Is.EquivalentTo(new[] { "hub-2|m-1=2", "hub-2|m-3=4" }));
            Assert.That(hub3, Is.Empty);
        }
    }

    [Test]
    public async Task ReadHoursAsync_OtherKeyFieldFilter_ReturnsMatchingRows()
    {
        await CommitAsync(
            MediaOpens,
            [
                HourRows(Hour, (Key("hub-1", "m-1"), Row(1)), (Key("hub-1", "m-2"), Row(2)), (Key("hub-2", "m-1"), Row(3))),
                HourRows(Hour.Next, (Key("hub-1", "m-1"), Row(4))),
            ],
            []);

        var rows = await ReadHoursAsync(MediaOpens, new KeyFilter("hub-1", [new KeyCondition(1, "m-1")]), Hour, Hour.AddHours(2));

        Assert.That(Summaries(rows), Is.EquivalentTo(new[] { "hub-1|m-1=1", "hub-1|m-1=4" }));
    }

    [Test]
    public async Task ReadHoursAsync_Range_IsHalfOpen()
    {
        await CommitAsync(
            MediaOpens,
            [
                HourRows(Hour.AddHours(-1), (Key("hub-1", "m-1"), Row(1))),
                HourRows(Hour, (Key("hub-1", "m-1"), Row(2))),
                HourRows(Hour.Next, (Key("hub-1", "m-1"), Row(3))),
                HourRows(Hour.AddHours(2), (Key("hub-1", "m-1"), Row(4))),
            ],
            []);

        var rows = await ReadHoursAsync(MediaOpens, new KeyFilter("hub-1"), Hour, Hour.AddHours(2));
        var empty = await ReadHoursAsync(MediaOpens, new KeyFilter("hub-1"), Hour, Hour);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(Summaries(rows), Is.EquivalentTo(new[] { "hub-1|m-1=2", "hub-1|m-1=3" }));
            Assert.That(empty, Is.Empty);
        }
    }

    [Test]
    public void ReadHoursAsync_FilterPositionOutsideKey_Throws()
    {
        Assert.That(
            () => ReadHoursAsync(MediaOpens, new KeyFilter("hub-1", [new KeyCondition(2, "x")]), Hour, Hour.Next),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("key position 2"));
    }

    [Test]
    public async Task ReadDaysAsync_HubAndKeyFilter_ReturnsMatchingRowsInRange()
    {
        await CommitAsync(
            MediaOpens,
            [],
            [
                DayRows(Day, (Key("hub-1", "m-1"), Row(1)), (Key("hub-1", "m-2"), Row(2)), (Key("hub-2", "m-1"), Row(3))),
                DayRows(Day.Next, (Key("hub-1", "m-1"), Row(4))),
                DayRows(Day.Next.Next, (Key("hub-1", "m-1"), Row(5))),
            ]);

        var byHub = await ReadDaysAsync(MediaOpens, new KeyFilter("hub-1"), Day, Day.Next.Next);
        var byMedia = await ReadDaysAsync(MediaOpens, new KeyFilter("hub-1", [new KeyCondition(1, "m-1")]), Day, Day.Next.Next);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(Summaries(byHub), Is.EquivalentTo(new[] { "hub-1|m-1=1", "hub-1|m-2=2", "hub-1|m-1=4" }));
            Assert.That(Summaries(byMedia), Is.EquivalentTo(new[] { "hub-1|m-1=1", "hub-1|m-1=4" }));
        }
    }

    [Test]
    public async Task GetDaysWithHourlyRowsAsync_Range_ReturnsDaysInOrder()
    {
        var before = new UtcDay(Day.Index - 1);
        var third = new UtcDay(Day.Index + 2);
        var fourth = new UtcDay(Day.Index + 3);
        await CommitAsync(
            MediaOpens,
            [
                HourRows(before.FirstHour.AddHours(23), (Key("hub-1", "m-1"), Row(1))),
                HourRows(Day.FirstHour.AddHours(23), (Key("hub-1", "m-1"), Row(1))),
                HourRows(third.FirstHour, (Key("hub-1", "m-1"), Row(1))),
                HourRows(third.FirstHour.AddHours(5), (Key("hub-2", "m-1"), Row(1))),
                HourRows(fourth.FirstHour, (Key("hub-1", "m-1"), Row(1))),
            ],
            [DayRows(Day.Next, (Key("hub-1", "m-1"), Row(1)))]);
        await CommitAsync(HubVisits, [HourRows(Day.Next.FirstHour, (Key("hub-1"), VisitRow(1)))], []);

        var days = await store.GetDaysWithHourlyRowsAsync(MediaOpens, Day, fourth, CancellationToken.None);
        var whole = await store.GetDaysWithHourlyRowsAsync(MediaOpens, UtcDay.MinValue, new UtcDay(long.MaxValue), CancellationToken.None);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(days, Is.EqualTo(new[] { Day, third }));
            Assert.That(whole, Is.EqualTo(new[] { before, Day, third, fourth }));
        }
    }

    [Test]
    public async Task ReadDayHoursAsync_Day_ReturnsItsHoursInOrder()
    {
        await CommitAsync(
            MediaOpens,
            [
                HourRows(Day.FirstHour.AddHours(-1), (Key("hub-1", "m-1"), Row(1))),
                HourRows(Day.FirstHour.AddHours(23), (Key("hub-1", "m-1"), Row(2)), (Key("hub-2", "m-1"), Row(3))),
                HourRows(Day.FirstHour, (Key("hub-1", "m-1"), Row(4))),
                HourRows(Day.EndHour, (Key("hub-1", "m-1"), Row(5))),
            ],
            []);

        var buckets = await store.ReadDayHoursAsync(MediaOpens, Day, CancellationToken.None);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(buckets.Select(b => b.Bucket), Is.EqualTo(new[] { Day.FirstHour, Day.FirstHour.AddHours(23) }));
            Assert.That(Summaries(buckets[0].Rows.Select(pair => new KeyedRow(pair.Key, pair.Value))), Is.EqualTo(new[] { "hub-1|m-1=4" }));
            Assert.That(Summaries(buckets[1].Rows.Select(pair => new KeyedRow(pair.Key, pair.Value))), Is.EquivalentTo(new[] { "hub-1|m-1=2", "hub-2|m-1=3" }));
        }
    }

    [Test]
    public async Task ReadHoursAsync_AfterReopen_ReturnsCommittedRows()
    {
        await CommitAsync(MediaOpens, [HourRows(Hour, (Key("hub-1", "m-1"), Row(6)))], []);
        store.Dispose();
        store = directory.OpenViewStore();

        var rows = await ReadHoursAsync(MediaOpens, new KeyFilter("hub-1"), Hour, Hour.Next);

        Assert.That(Summaries(rows), Is.EqualTo(new[] { "hub-1|m-1=6" }));
    }

    [Test]
    public void DaysWithHourlyRowsSql_QueryPlan_SeeksPrimaryKey()
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = store.FilePath, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + SqliteViewStore.DaysWithHourlyRowsSql;
        command.Parameters.AddWithValue("?1", "a");
        command.Parameters.AddWithValue("?2", 1L);
        command.Parameters.AddWithValue("?3", 2L);
        var plan = new List<string>();
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                plan.Add(reader.GetString(3));
            }
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(plan, Has.Some.Contains("USING COVERING INDEX sqlite_autoindex_hourly_blocks_1 (aggregation=? AND hour>? AND hour<?)"));
            Assert.That(plan, Has.None.Contains("SCAN hourly_blocks"));
        }
    }

    private async Task AssertPreviousStateAsync(BatchFrontier previousFrontier)
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(Summaries(await ReadHoursAsync(MediaOpens, new KeyFilter("hub-1"), Hour, Hour.Next)), Is.EqualTo(new[] { "hub-1|m-1=1" }));
            Assert.That(Summaries(await ReadHoursAsync(MediaOpens, new KeyFilter("hub-1"), Hour.Next, Hour.AddHours(2))), Is.EqualTo(new[] { "hub-1|m-1=2" }));
            Assert.That(Summaries(await ReadDaysAsync(MediaOpens, new KeyFilter("hub-1"), Day, Day.Next)), Is.EqualTo(new[] { "hub-1|m-1=3" }));
            Assert.That(await store.GetFrontierAsync(MediaOpens.ViewId, CancellationToken.None), Is.EqualTo(previousFrontier));
        }
    }

    private Task CommitAsync(AggregationDefinition aggregation, IReadOnlyList<BucketRows<UtcHour>> hours, IReadOnlyList<BucketRows<UtcDay>> days, BatchFrontier? frontier = null) =>
        store.CommitAsync(aggregation, hours, days, frontier ?? new BatchFrontier(Hour, 1, Day), CancellationToken.None);

    private Task<IReadOnlyList<KeyedRow>> ReadHoursAsync(AggregationDefinition aggregation, KeyFilter filter, UtcHour from, UtcHour to) =>
        store.ReadHoursAsync(aggregation, filter, from, to, CancellationToken.None);

    private Task<IReadOnlyList<KeyedRow>> ReadDaysAsync(AggregationDefinition aggregation, KeyFilter filter, UtcDay from, UtcDay to) =>
        store.ReadDaysAsync(aggregation, filter, from, to, CancellationToken.None);

    /// <summary>Formats each row as "key=count of its first output", which every test aggregation makes a count.</summary>
    private static List<string> Summaries(IEnumerable<KeyedRow> rows) =>
        rows.Select(row => $"{row.Key}={((CountAccumulator)row.Row.Outputs[0]).Value}").ToList();

    private static AggregationKey Key(params string[] values) => new(values);

    private static string Json(AggregateRow row) => System.Text.Encoding.UTF8.GetString(row.SerializeState());

    private long CountTableRows(string table)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = store.FilePath, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT COUNT(*) FROM {table};";
        return (long)command.ExecuteScalar()!;
    }

    private static LambdaEvent Viewed(string visitor, int page, double? duration) => new()
    {
        Id = Guid.NewGuid().ToString("N"),
        Type = EventType.PageViewed,
        OccurredAt = Hour.Start,
        HubId = "hub-1",
        MediaId = "m-1",
        VisitorId = visitor,
        Page = page,
        DurationSeconds = duration,
    };

    private static BucketRows<UtcHour> HourRows(UtcHour hour, params (AggregationKey Key, AggregateRow Row)[] rows) =>
        new(hour, rows.ToDictionary(pair => pair.Key, pair => pair.Row));

    private static BucketRows<UtcDay> DayRows(UtcDay day, params (AggregationKey Key, AggregateRow Row)[] rows) =>
        new(day, rows.ToDictionary(pair => pair.Key, pair => pair.Row));

    /// <summary>Creates a <see cref="MediaOpens"/> row with <paramref name="opens"/> events.</summary>
    private static AggregateRow Row(int opens)
    {
        var row = MediaOpens.CreateRow();
        for (var i = 0; i < opens; i++)
        {
            row.Add(Opened(duration: 1, network: "linkedin"));
        }

        return row;
    }

    /// <summary>Creates a <see cref="HubVisits"/> row with <paramref name="visits"/> events.</summary>
    private static AggregateRow VisitRow(int visits)
    {
        var row = HubVisits.CreateRow();
        for (var i = 0; i < visits; i++)
        {
            row.Add(new LambdaEvent { Id = $"visit-{i}", Type = EventType.HubVisited, OccurredAt = Hour.Start, HubId = "hub-1" });
        }

        return row;
    }

    private static LambdaEvent Opened(double? duration, string network, string hubId = "hub-1", string mediaId = "m-1") => new()
    {
        Id = Guid.NewGuid().ToString("N"),
        Type = EventType.MediaOpened,
        OccurredAt = Hour.Start,
        HubId = hubId,
        MediaId = mediaId,
        DurationSeconds = duration,
        Network = network,
    };
}
