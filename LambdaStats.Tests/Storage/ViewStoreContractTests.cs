using Elastic.Clients.Elasticsearch;
using Elastic.Clients.Elasticsearch.IndexManagement;
using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Common;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.Storage.Elasticsearch;
using LambdaStats.Modules.View.Contracts;
using Microsoft.Extensions.Logging.Abstractions;

namespace LambdaStats.Tests.Storage;

/// <summary>
/// The behaviour that every <see cref="IViewStore"/> adapter must have, run against each adapter
/// by a derived fixture.
/// </summary>
public abstract class ViewStoreContractTests
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
            new OutputDefinition("secondsByPage", AggregatorKind.ProjectionAdd, field: EventField.DurationSeconds, groupBy: EventField.Page),
            new OutputDefinition("shortest", AggregatorKind.Min, field: EventField.DurationSeconds),
            new OutputDefinition("longest", AggregatorKind.Max, field: EventField.DurationSeconds),
            new OutputDefinition("readers", AggregatorKind.DistinctCount, field: EventField.VisitorId),
            new OutputDefinition("readersEstimate", AggregatorKind.DistinctCount, field: EventField.VisitorId, mode: DistinctCountMode.HyperLogLog, precision: 10),
        ]);

    private IViewStore store = null!;

    [SetUp]
    public async Task SetUpStoreAsync() => store = await OpenStoreAsync();

    [Test]
    public async Task Frontier_NothingStored_IsInitial()
    {
        var frontier = await store.GetFrontierAsync(MediaOpens.ViewId, CancellationToken.None);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(frontier, Is.EqualTo(BatchFrontier.Initial));
            Assert.That(frontier.IsInitial, Is.True);
        }
    }

    [Test]
    public async Task Frontier_AfterCommits_RoundTrips()
    {
        await CommitAsync(MediaOpens, [], [], new BatchFrontier(Hour, 10, Day));
        var latest = new BatchFrontier(Hour.AddHours(3), 12_345, Day.Next);
        await CommitAsync(MediaOpens, [], [], latest);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(await store.GetFrontierAsync(MediaOpens.ViewId, CancellationToken.None), Is.EqualTo(latest));
            Assert.That(await store.GetFrontierAsync(HubVisits.ViewId, CancellationToken.None), Is.EqualTo(BatchFrontier.Initial));
        }
    }

    [Test]
    public async Task Commit_SameHourTwice_ReplacesRows()
    {
        await CommitAsync(MediaOpens, [HourRows(Hour, (Key("hub-1", "m-1"), Row(3)), (Key("hub-1", "m-2"), Row(4)))], []);

        await CommitAsync(MediaOpens, [HourRows(Hour, (Key("hub-1", "m-1"), Row(5)))], []);

        Assert.That(Summaries(await ReadHoursAsync(MediaOpens, new KeyFilter("hub-1"), Hour, Hour.Next)), Is.EqualTo(new[] { "hub-1|m-1=5" }));
    }

    [Test]
    public async Task Commit_EmptyRows_DeletesBucket()
    {
        await CommitAsync(MediaOpens, [HourRows(Hour, (Key("hub-1", "m-1"), Row(3)))], [DayRows(Day, (Key("hub-1", "m-1"), Row(3)))]);

        await CommitAsync(MediaOpens, [HourRows(Hour)], [DayRows(Day)]);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(await ReadHoursAsync(MediaOpens, new KeyFilter("hub-1"), Hour, Hour.Next), Is.Empty);
            Assert.That(await ReadDaysAsync(MediaOpens, new KeyFilter("hub-1"), Day, Day.Next), Is.Empty);
            Assert.That(await store.GetDaysWithHourlyRowsAsync(MediaOpens, Day, Day.Next, CancellationToken.None), Is.Empty);
            Assert.That(await store.ReadDayHoursAsync(MediaOpens, Day, CancellationToken.None), Is.Empty);
        }
    }

    [Test]
    public async Task Commit_HubLeftOut_LosesItsRows()
    {
        await CommitAsync(MediaOpens, [HourRows(Hour, (Key("hub-1", "m-1"), Row(1)), (Key("hub-2", "m-1"), Row(2)))], [DayRows(Day, (Key("hub-1", "m-1"), Row(3)), (Key("hub-2", "m-1"), Row(4)))]);

        await CommitAsync(MediaOpens, [HourRows(Hour, (Key("hub-2", "m-2"), Row(5)))], [DayRows(Day, (Key("hub-2", "m-1"), Row(6)))]);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(await ReadHoursAsync(MediaOpens, new KeyFilter("hub-1"), Hour, Hour.Next), Is.Empty);
            Assert.That(await ReadDaysAsync(MediaOpens, new KeyFilter("hub-1"), Day, Day.Next), Is.Empty);
            Assert.That(Summaries(await ReadHoursAsync(MediaOpens, new KeyFilter("hub-2"), Hour, Hour.Next)), Is.EqualTo(new[] { "hub-2|m-2=5" }));
            Assert.That(Summaries(await ReadDaysAsync(MediaOpens, new KeyFilter("hub-2"), Day, Day.Next)), Is.EqualTo(new[] { "hub-2|m-1=6" }));
        }
    }

    [Test]
    public async Task Commit_OtherBucketsAndAggregations_KeepRows()
    {
        await CommitAsync(MediaOpens, [HourRows(Hour, (Key("hub-1", "m-1"), Row(1))), HourRows(Hour.Next, (Key("hub-1", "m-1"), Row(2)))], []);
        await CommitAsync(HubVisits, [HourRows(Hour, (Key("hub-1"), VisitRow(7)))], []);

        await CommitAsync(MediaOpens, [HourRows(Hour, (Key("hub-1", "m-1"), Row(10)))], []);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(Summaries(await ReadHoursAsync(MediaOpens, new KeyFilter("hub-1"), Hour.Next, Hour.AddHours(2))), Is.EqualTo(new[] { "hub-1|m-1=2" }));
            Assert.That(Summaries(await ReadHoursAsync(MediaOpens, new KeyFilter("hub-1"), Hour, Hour.Next)), Is.EqualTo(new[] { "hub-1|m-1=10" }));
            Assert.That(Summaries(await ReadHoursAsync(HubVisits, new KeyFilter("hub-1"), Hour, Hour.Next)), Is.EqualTo(new[] { "hub-1=7" }));
        }
    }

    [Test]
    public async Task HourParts_ThenCommit_AddUp()
    {
        var watermark = Hour.AddHours(-1);
        await CommitAsync(MediaOpens, [], [], new BatchFrontier(watermark, 1, Day));
        await store.WriteHourPartAsync(MediaOpens, HourRows(Hour, (Key("hub-1", "m-1"), Row(3))), replace: true, CancellationToken.None);
        await store.WriteHourPartAsync(MediaOpens, HourRows(Hour, (Key("hub-2", "m-1"), Row(5))), replace: false, CancellationToken.None);
        var frontierBetween = await store.GetFrontierAsync(MediaOpens.ViewId, CancellationToken.None);
        await CommitAsync(MediaOpens, [], [], new BatchFrontier(Hour.Next, 2, Day));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(frontierBetween.Watermark, Is.EqualTo(watermark), "a part leaves the frontier");
            Assert.That(Summaries(await ReadHoursAsync(MediaOpens, new KeyFilter("hub-1"), Hour, Hour.Next)), Is.EqualTo(new[] { "hub-1|m-1=3" }));
            Assert.That(Summaries(await ReadHoursAsync(MediaOpens, new KeyFilter("hub-2"), Hour, Hour.Next)), Is.EqualTo(new[] { "hub-2|m-1=5" }));
        }
    }

    [Test]
    public async Task HourPart_Replace_DropsEarlierParts()
    {
        await store.WriteHourPartAsync(MediaOpens, HourRows(Hour, (Key("hub-1", "m-1"), Row(3))), replace: true, CancellationToken.None);
        await store.WriteHourPartAsync(MediaOpens, HourRows(Hour, (Key("hub-2", "m-1"), Row(5))), replace: false, CancellationToken.None);

        // A run that stopped after these parts is followed by one that starts the hour again.
        await store.WriteHourPartAsync(MediaOpens, HourRows(Hour, (Key("hub-1", "m-1"), Row(4))), replace: true, CancellationToken.None);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(Summaries(await ReadHoursAsync(MediaOpens, new KeyFilter("hub-1"), Hour, Hour.Next)), Is.EqualTo(new[] { "hub-1|m-1=4" }));
            Assert.That(await ReadHoursAsync(MediaOpens, new KeyFilter("hub-2"), Hour, Hour.Next), Is.Empty);
        }
    }

    [Test]
    public async Task HourPart_HubWrittenTwice_Throws()
    {
        await store.WriteHourPartAsync(MediaOpens, HourRows(Hour, (Key("hub-1", "m-1"), Row(3))), replace: true, CancellationToken.None);

        Assert.That(
            async () => await store.WriteHourPartAsync(MediaOpens, HourRows(Hour, (Key("hub-1", "m-2"), Row(1))), replace: false, CancellationToken.None),
            Throws.Exception);
        Assert.That(Summaries(await ReadHoursAsync(MediaOpens, new KeyFilter("hub-1"), Hour, Hour.Next)), Is.EqualTo(new[] { "hub-1|m-1=3" }));
    }

    [Test]
    public async Task HourPart_BeforeWatermark_Throws()
    {
        await CommitAsync(MediaOpens, [HourRows(Hour, (Key("hub-1", "m-1"), Row(3)))], [], new BatchFrontier(Hour.Next, 1, Day));

        Assert.That(
            async () => await store.WriteHourPartAsync(MediaOpens, HourRows(Hour, (Key("hub-1", "m-1"), Row(9))), replace: true, CancellationToken.None),
            Throws.InvalidOperationException.With.Message.Contains("before its watermark"));
        Assert.That(Summaries(await ReadHoursAsync(MediaOpens, new KeyFilter("hub-1"), Hour, Hour.Next)), Is.EqualTo(new[] { "hub-1|m-1=3" }));
    }

    [Test]
    public async Task ReadHours_RangeAndKeyFilter_ReturnMatches()
    {
        await CommitAsync(
            MediaOpens,
            [
                HourRows(Hour.AddHours(-1), (Key("hub-1", "m-1"), Row(1))),
                HourRows(Hour, (Key("hub-1", "m-1"), Row(2)), (Key("hub-1", "m-2"), Row(3)), (Key("hub-2", "m-1"), Row(4))),
                HourRows(Hour.Next, (Key("hub-1", "m-1"), Row(5))),
                HourRows(Hour.AddHours(2), (Key("hub-1", "m-1"), Row(6))),
            ],
            []);

        var range = await ReadHoursAsync(MediaOpens, new KeyFilter("hub-1"), Hour, Hour.AddHours(2));
        var filtered = await ReadHoursAsync(MediaOpens, new KeyFilter("hub-1", [new KeyCondition(1, "m-2")]), Hour.AddHours(-1), Hour.AddHours(3));
        var otherHub = await ReadHoursAsync(MediaOpens, new KeyFilter("hub-1", [new KeyCondition(0, "hub-2")]), Hour, Hour.Next);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(Summaries(range), Is.EquivalentTo(new[] { "hub-1|m-1=2", "hub-1|m-2=3", "hub-1|m-1=5" }));
            Assert.That(Summaries(filtered), Is.EqualTo(new[] { "hub-1|m-2=3" }));
            Assert.That(otherHub, Is.Empty);
            Assert.That(await ReadHoursAsync(MediaOpens, new KeyFilter("hub-1"), Hour.Next, Hour), Is.Empty);
        }
    }

    [Test]
    public async Task ReadDays_RangeAndKeyFilter_ReturnMatches()
    {
        await CommitAsync(
            MediaOpens,
            [],
            [
                DayRows(DayAt(-1), (Key("hub-1", "m-1"), Row(1))),
                DayRows(Day, (Key("hub-1", "m-1"), Row(2)), (Key("hub-1", "m-2"), Row(3)), (Key("hub-2", "m-1"), Row(4))),
                DayRows(Day.Next, (Key("hub-1", "m-2"), Row(5))),
            ]);

        var range = await ReadDaysAsync(MediaOpens, new KeyFilter("hub-1"), Day, Day.Next);
        var filtered = await ReadDaysAsync(MediaOpens, new KeyFilter("hub-1", [new KeyCondition(1, "m-2")]), DayAt(-1), DayAt(2));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(Summaries(range), Is.EquivalentTo(new[] { "hub-1|m-1=2", "hub-1|m-2=3" }));
            Assert.That(Summaries(filtered), Is.EquivalentTo(new[] { "hub-1|m-2=3", "hub-1|m-2=5" }));
        }
    }

    [Test]
    public async Task ReadHours_ManyBuckets_ReturnsEveryOne()
    {
        // More hours than one Elasticsearch search page holds.
        var hours = Enumerable.Range(0, 1_203).Select(i => HourRows(Hour.AddHours(i), (Key("hub-1", "m-1"), Row(1 + i % 5)))).ToArray();
        await CommitAsync(MediaOpens, hours, []);

        var rows = await ReadHoursAsync(MediaOpens, new KeyFilter("hub-1"), Hour, Hour.AddHours(1_203));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(rows, Has.Count.EqualTo(1_203));
            Assert.That(rows.Sum(row => ((CountAccumulator)row.Row.Outputs[0]).Value), Is.EqualTo(hours.Sum(hour => ((CountAccumulator)hour.Rows.Single().Value.Outputs[0]).Value)));
        }
    }

    [Test]
    public async Task DaysWithHourlyRows_ReturnsDaysInOrder()
    {
        await CommitAsync(
            MediaOpens,
            [
                HourRows(DayAt(2).FirstHour.AddHours(23), (Key("hub-2", "m-1"), Row(1))),
                HourRows(Day.FirstHour, (Key("hub-1", "m-1"), Row(1))),
                HourRows(Day.FirstHour.AddHours(5), (Key("hub-1", "m-1"), Row(1))),
                HourRows(DayAt(-1).FirstHour.AddHours(3), (Key("hub-1", "m-1"), Row(1))),
            ],
            [DayRows(Day.Next, (Key("hub-1", "m-1"), Row(1)))]);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(await store.GetDaysWithHourlyRowsAsync(MediaOpens, DayAt(-1), DayAt(5), CancellationToken.None), Is.EqualTo(new[] { DayAt(-1), Day, DayAt(2) }));
            Assert.That(await store.GetDaysWithHourlyRowsAsync(MediaOpens, Day, DayAt(2), CancellationToken.None), Is.EqualTo(new[] { Day }));
            Assert.That(await store.GetDaysWithHourlyRowsAsync(HubVisits, DayAt(-1), DayAt(5), CancellationToken.None), Is.Empty);
        }
    }

    [Test]
    public async Task ReadDayHours_GroupsRowsByHour()
    {
        await CommitAsync(
            MediaOpens,
            [
                HourRows(Day.FirstHour, (Key("hub-1", "m-1"), Row(1)), (Key("hub-2", "m-1"), Row(2))),
                HourRows(Day.FirstHour.AddHours(23), (Key("hub-1", "m-2"), Row(3))),
                HourRows(Day.Next.FirstHour, (Key("hub-1", "m-1"), Row(4))),
            ],
            []);

        var hours = await store.ReadDayHoursAsync(MediaOpens, Day, CancellationToken.None);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(hours.Select(hour => hour.Bucket), Is.EqualTo(new[] { Day.FirstHour, Day.FirstHour.AddHours(23) }));
            Assert.That(Summaries(hours[0].Rows.Select(pair => new KeyedRow(pair.Key, pair.Value))), Is.EquivalentTo(new[] { "hub-1|m-1=1", "hub-2|m-1=2" }));
            Assert.That(Summaries(hours[1].Rows.Select(pair => new KeyedRow(pair.Key, pair.Value))), Is.EqualTo(new[] { "hub-1|m-2=3" }));
        }
    }

    [Test]
    public async Task Commit_EveryAggregatorKind_RoundTrips()
    {
        var full = AllKinds.CreateRow();
        for (var i = 0; i < 500; i++)
        {
            full.Add(Viewed($"v-{i % 200}", page: 1 + i % 45, duration: i % 7 == 0 ? null : i * 0.25 - 3));
        }

        var withoutDurations = AllKinds.CreateRow();
        withoutDurations.Add(Viewed("v-1", page: 2, duration: null));
        var rows = new[]
        {
            (Key("hub-1", "m-1", "x"), full),
            (Key("hub-1", "m-1", ""), withoutDurations),
            (Key("hub-1", "média-é", "linkedin"), AllKinds.CreateRow()),
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
        }
    }

    /// <summary>Returns a store with nothing stored, opened for one test; the derived fixture's teardown closes it and deletes what it stored.</summary>
    protected abstract Task<IViewStore> OpenStoreAsync();

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

    private static UtcDay DayAt(int offset) => new(Day.Index + offset);

    private static string Json(AggregateRow row) => System.Text.Encoding.UTF8.GetString(row.SerializeState());

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
            row.Add(new LambdaEvent { Id = $"open-{i}", Type = EventType.MediaOpened, OccurredAt = Hour.Start, HubId = "hub-1", MediaId = "m-1", DurationSeconds = 1 });
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
}

/// <summary>The view store contract on the SQLite adapter, in a fresh directory per test.</summary>
[TestFixture]
public sealed class SqliteViewStoreContractTests : ViewStoreContractTests
{
    private TemporaryDirectory directory = null!;
    private Modules.Storage.Sqlite.SqliteViewStore store = null!;

    protected override Task<IViewStore> OpenStoreAsync()
    {
        directory = new TemporaryDirectory();
        store = directory.OpenViewStore();
        return Task.FromResult<IViewStore>(store);
    }

    [TearDown]
    public void TearDown()
    {
        store.Dispose();
        directory.Dispose();
    }
}

/// <summary>
/// The view store contract on the Elasticsearch adapter, against the server that
/// LAMBDASTATS_TEST_ELASTICSEARCH names; skipped when it is not set. Each test uses indices of its
/// own prefix and deletes them afterwards.
/// </summary>
[TestFixture]
public sealed class ElasticsearchViewStoreContractTests : ViewStoreContractTests
{
    private ElasticsearchClient? client;
    private ViewIndices? indices;

    protected override async Task<IViewStore> OpenStoreAsync()
    {
        var url = ElasticsearchTestServer.RequireUrl();
        client = new ElasticsearchClient(new ElasticsearchClientSettings(url));
        indices = new ViewIndices($"lambdastats-test-{Guid.NewGuid():N}-");
        var store = new ElasticsearchViewStore(client, indices, TimeProvider.System, NullLogger<ElasticsearchViewStore>.Instance);
        await store.EnsureIndicesAsync(CancellationToken.None);
        return store;
    }

    [TearDown]
    public async Task DeleteIndicesAsync()
    {
        if (client is null || indices is null)
        {
            return;
        }

        // Each index by name: clusters refuse wildcard deletes by default (action.destructive_requires_name).
        foreach (var index in indices.All)
        {
            await client.Indices.DeleteAsync(new DeleteIndexRequest(index), CancellationToken.None);
        }
    }
}
