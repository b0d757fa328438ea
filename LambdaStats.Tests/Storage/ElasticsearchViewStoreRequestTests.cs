using System.Text.Json;
using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Common;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.Storage.Elasticsearch;
using LambdaStats.Modules.Storage.Sqlite;
using LambdaStats.Modules.View.Contracts;

namespace LambdaStats.Tests.Storage;

/// <summary>
/// Checks the shapes and the order of the requests that the Elasticsearch view store sends, through
/// an in-memory invoker with canned responses. These tests check request shapes only. No server
/// runs them, so they do not show how Elasticsearch responds; the contract tests do.
/// </summary>
[TestFixture]
public sealed class ElasticsearchViewStoreRequestTests
{
    private const string Prefix = "test-";
    private const string HoursIndex = Prefix + "view-hours";
    private const string DaysIndex = Prefix + "view-days";
    private const string FrontiersIndex = Prefix + "view-frontiers";

    private static readonly UtcDay Day = UtcDay.Containing(new DateTimeOffset(2025, 3, 10, 0, 0, 0, TimeSpan.Zero));
    private static readonly UtcHour Hour = Day.FirstHour.AddHours(8);

    private static readonly AggregationDefinition HubVisits = new(
        "hub_visits",
        EventType.HubVisited,
        [EventField.HubId],
        [new OutputDefinition("visits", AggregatorKind.Count)]);

    [Test]
    public async Task Commit_WritesFrontierLast()
    {
        var (store, invoker) = RecordingRequestInvoker.CreateStore(Respond);

        await store.CommitAsync(HubVisits, [HourRows(Hour, "hub-1")], [DayRows(Day, "hub-1")], new BatchFrontier(Hour.Next, 5, Day), CancellationToken.None);

        var steps = invoker.Requests.Where(request => request.Method != "HEAD").Select(Describe).ToList();
        Assert.That(steps, Is.EqualTo(new[]
        {
            $"bulk {HoursIndex}",
            $"bulk {DaysIndex}",
            $"refresh {HoursIndex}",
            $"delete_by_query {HoursIndex}",
            $"refresh {DaysIndex}",
            $"delete_by_query {DaysIndex}",
            $"index {FrontiersIndex}",
        }));
    }

    [Test]
    public async Task Commit_BulkBody_OneDocumentPerHub()
    {
        var (store, invoker) = RecordingRequestInvoker.CreateStore(Respond);

        await store.CommitAsync(HubVisits, [HourRows(Hour, "hub-1", "hub-2")], [], new BatchFrontier(Hour.Next, 5, Day), CancellationToken.None);

        var lines = BulkLines(invoker.Requests.Single(request => Describe(request) == $"bulk {HoursIndex}"));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(lines, Has.Count.EqualTo(4));
            Assert.That(lines[0].GetProperty("index").GetProperty("_id").GetString(), Is.EqualTo(ViewDocumentIds.Block(HubVisits.ViewId, Hour.Index, "hub-1")));
            Assert.That(lines[1].GetProperty("aggregation").GetString(), Is.EqualTo(HubVisits.ViewId));
            Assert.That(lines[1].GetProperty("bucket").GetInt64(), Is.EqualTo(Hour.Index));
            Assert.That(lines[1].GetProperty("hub").GetString(), Is.EqualTo("hub-1"));
            Assert.That(lines[1].GetProperty("keyCount").GetInt32(), Is.EqualTo(1));
            Assert.That(lines[1].GetProperty("block").GetBytesFromBase64(), Is.Not.Empty);
            Assert.That(lines[2].GetProperty("index").GetProperty("_id").GetString(), Is.EqualTo(ViewDocumentIds.Block(HubVisits.ViewId, Hour.Index, "hub-2")));
            Assert.That(lines[3].GetProperty("hub").GetString(), Is.EqualTo("hub-2"));
        }
    }

    [Test]
    public async Task Commit_DeleteByQuery_SparesOwnWrite()
    {
        var (store, invoker) = RecordingRequestInvoker.CreateStore(Respond);

        await store.CommitAsync(HubVisits, [HourRows(Hour, "hub-1")], [], new BatchFrontier(Hour.Next, 5, Day), CancellationToken.None);

        var write = BulkLines(invoker.Requests.Single(request => Describe(request) == $"bulk {HoursIndex}"))[1].GetProperty("write").GetString();
        var delete = invoker.Requests.Single(request => Describe(request) == $"delete_by_query {HoursIndex}");
        var query = JsonDocument.Parse(delete.Body).RootElement.GetProperty("query").GetProperty("bool");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(delete.PathAndQuery, Does.Contain("refresh=true"));
            Assert.That(query.GetProperty("must_not").ToString(), Does.Contain(write!));
            Assert.That(query.GetProperty("filter").ToString(), Does.Contain(HubVisits.ViewId));
            Assert.That(query.GetProperty("filter").ToString(), Does.Contain(Hour.Index.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }
    }

    [Test]
    public async Task Commit_ItemFails_FrontierStays()
    {
        var (store, invoker) = RecordingRequestInvoker.CreateStore(request => Describe(request).StartsWith("bulk", StringComparison.Ordinal)
            ? (200, """{"took":1,"errors":true,"items":[{"index":{"_index":"test-view-hours","_id":"x","status":400,"error":{"type":"mapper_parsing_exception","reason":"failed to parse"}}}]}""")
            : Respond(request));

        Assert.That(
            async () => await store.CommitAsync(HubVisits, [HourRows(Hour, "hub-1")], [], new BatchFrontier(Hour.Next, 5, Day), CancellationToken.None),
            Throws.InstanceOf<ElasticsearchViewStoreException>().With.Message.Contains("mapper_parsing_exception"));
        Assert.That(invoker.Requests.Select(Describe), Has.None.EqualTo($"index {FrontiersIndex}"));
    }

    [Test]
    public async Task HourPart_Replace_DeletesThenCreates()
    {
        var (store, invoker) = RecordingRequestInvoker.CreateStore(Respond);

        await store.WriteHourPartAsync(HubVisits, HourRows(Hour, "hub-1"), replace: true, CancellationToken.None);

        var steps = invoker.Requests.Where(request => request.Method != "HEAD").Select(Describe).ToList();
        var delete = invoker.Requests.Single(request => Describe(request) == $"delete_by_query {HoursIndex}");
        var bulk = BulkLines(invoker.Requests.Single(request => Describe(request) == $"bulk {HoursIndex}"));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(steps, Is.EqualTo(new[] { $"get {FrontiersIndex}", $"delete_by_query {HoursIndex}", $"bulk {HoursIndex}", $"refresh {HoursIndex}" }));
            Assert.That(JsonDocument.Parse(delete.Body).RootElement.GetProperty("query").GetProperty("bool").TryGetProperty("must_not", out _), Is.False);
            Assert.That(bulk[0].TryGetProperty("create", out _), Is.True);
        }
    }

    [Test]
    public async Task EnsureIndices_Missing_CreatesStrictMappings()
    {
        var (store, invoker) = RecordingRequestInvoker.CreateStore(request => request.Method == "HEAD"
            ? (404, string.Empty)
            : request.Method == "PUT" ? (200, """{"acknowledged":true,"shards_acknowledged":true,"index":"x"}""") : Respond(request));

        await store.EnsureIndicesAsync(CancellationToken.None);

        var created = invoker.Requests.Where(request => request.Method == "PUT").ToList();
        var hours = JsonDocument.Parse(created.Single(request => Describe(request) == $"create {HoursIndex}").Body).RootElement.GetProperty("mappings");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(created.Select(Describe), Is.EqualTo(new[] { $"create {HoursIndex}", $"create {DaysIndex}", $"create {FrontiersIndex}" }));
            Assert.That(hours.GetProperty("dynamic").GetString(), Is.EqualTo("strict"));
            Assert.That(hours.GetProperty("properties").GetProperty("block").GetProperty("type").GetString(), Is.EqualTo("binary"));
            Assert.That(hours.GetProperty("properties").GetProperty("hub").GetProperty("type").GetString(), Is.EqualTo("keyword"));
        }
    }

    [Test]
    public async Task Search_Unavailable_RetriedOnce()
    {
        var failures = 1;
        var (store, invoker) = RecordingRequestInvoker.CreateStore(request => Describe(request).StartsWith("search", StringComparison.Ordinal) && failures-- > 0
            ? (503, """{"error":{"type":"unavailable_shards_exception","reason":"primary shard is not active"},"status":503}""")
            : Respond(request));

        var rows = await store.ReadHoursAsync(HubVisits, new KeyFilter("hub-1"), Hour, Hour.Next, CancellationToken.None);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(rows, Is.Empty);
            Assert.That(invoker.Requests.Count(request => Describe(request).StartsWith("search", StringComparison.Ordinal)), Is.EqualTo(2));
        }
    }

    [Test]
    public void HourPart_Unavailable_NotRetried()
    {
        var (store, invoker) = RecordingRequestInvoker.CreateStore(request => Describe(request).StartsWith("bulk", StringComparison.Ordinal)
            ? (503, """{"error":{"type":"unavailable_shards_exception","reason":"primary shard is not active"},"status":503}""")
            : Respond(request));

        Assert.That(
            async () => await store.WriteHourPartAsync(HubVisits, HourRows(Hour, "hub-1"), replace: false, CancellationToken.None),
            Throws.InstanceOf<ElasticsearchViewStoreException>().With.Property(nameof(ElasticsearchViewStoreException.IsTransient)).True);
        Assert.That(invoker.Requests.Count(request => Describe(request).StartsWith("bulk", StringComparison.Ordinal)), Is.EqualTo(1));
    }

    [Test]
    public async Task ReadHours_FullPage_RequestsNextPage()
    {
        var block = Convert.ToBase64String(EncodeBlock("hub-1"));
        var hits = Enumerable.Range(0, ElasticsearchViewStore.PageSize).Select(i =>
            $$"""{"_index":"{{HoursIndex}}","_id":"d{{i}}","_source":{"aggregation":"{{HubVisits.ViewId}}","bucket":{{Hour.Index + i}},"hub":"hub-1","keyCount":1,"write":"w","block":"{{block}}"},"sort":[{{Hour.Index + i}}]}""");
        var firstPage = $$$"""{"took":1,"timed_out":false,"_shards":{"total":1,"successful":1,"skipped":0,"failed":0},"hits":{"hits":[{{{string.Join(",", hits)}}}]}}""";
        var searches = 0;
        var (store, invoker) = RecordingRequestInvoker.CreateStore(request => Describe(request).StartsWith("search", StringComparison.Ordinal) && searches++ == 0
            ? (200, firstPage)
            : Respond(request));

        var rows = await store.ReadHoursAsync(HubVisits, new KeyFilter("hub-1"), Hour, Hour.AddHours(5_000), CancellationToken.None);

        var second = JsonDocument.Parse(invoker.Requests.Where(request => Describe(request).StartsWith("search", StringComparison.Ordinal)).ElementAt(1).Body).RootElement;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(rows, Has.Count.EqualTo(ElasticsearchViewStore.PageSize));
            Assert.That(searches, Is.EqualTo(2));
            Assert.That(second.GetProperty("search_after")[0].GetInt64(), Is.EqualTo(Hour.Index + ElasticsearchViewStore.PageSize - 1));
        }
    }

    [Test]
    public async Task DaysWithHourlyRows_HistogramKeys_BecomeDays()
    {
        var buckets = $$"""[{"key":{{Day.Index * 24}}.0,"doc_count":3},{"key":{{(Day.Index + 2) * 24}}.0,"doc_count":1}]""";
        var histogram = """{"took":1,"timed_out":false,"_shards":{"total":1,"successful":1,"skipped":0,"failed":0},"hits":{"hits":[]},"aggregations":{"histogram#days":{"buckets":""" + buckets + "}}}";
        var (store, invoker) = RecordingRequestInvoker.CreateStore(request => Describe(request).StartsWith("search", StringComparison.Ordinal) ? (200, histogram) : Respond(request));

        var days = await store.GetDaysWithHourlyRowsAsync(HubVisits, Day, new UtcDay(Day.Index + 5), CancellationToken.None);

        var search = JsonDocument.Parse(invoker.Requests.Single(request => Describe(request).StartsWith("search", StringComparison.Ordinal)).Body).RootElement;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(days, Is.EqualTo(new[] { Day, new UtcDay(Day.Index + 2) }));
            Assert.That(search.GetProperty("size").GetInt32(), Is.Zero);
            Assert.That(search.GetProperty("aggregations").GetProperty("days").GetProperty("histogram").GetProperty("interval").GetDouble(), Is.EqualTo(24));
        }
    }

    /// <summary>Names a request by its API and index, such as "bulk test-view-hours".</summary>
    private static string Describe(RecordedRequest request)
    {
        var path = request.PathAndQuery.Split('?')[0].Trim('/').Split('/');
        var api = path.Length > 1 && path[1].StartsWith('_') ? path[1].TrimStart('_') : null;
        return (request.Method, api) switch
        {
            ("HEAD", _) => $"exists {path[0]}",
            ("PUT", "doc") or ("POST", "doc") => $"index {path[0]}",
            ("GET", "doc") => $"get {path[0]}",
            ("PUT", null) => $"create {path[0]}",
            _ => $"{api} {path[0]}",
        };
    }

    /// <summary>Canned responses of a server where the indices exist and are empty.</summary>
    private static (int Status, string Body) Respond(RecordedRequest request) => Describe(request).Split(' ')[0] switch
    {
        "exists" => (200, string.Empty),
        "get" => (404, """{"_index":"test-view-frontiers","_id":"x","found":false}"""),
        "bulk" => (200, """{"took":1,"errors":false,"items":[]}"""),
        "refresh" => (200, """{"_shards":{"total":1,"successful":1,"failed":0}}"""),
        "delete_by_query" => (200, """{"took":1,"timed_out":false,"total":0,"deleted":0,"batches":0,"version_conflicts":0,"noops":0,"retries":{"bulk":0,"search":0},"throttled_millis":0,"requests_per_second":-1.0,"throttled_until_millis":0,"failures":[]}"""),
        "index" => (201, """{"_index":"test-view-frontiers","_id":"x","_version":1,"result":"created","_shards":{"total":1,"successful":1,"failed":0},"_seq_no":0,"_primary_term":1}"""),
        "search" => (200, """{"took":1,"timed_out":false,"_shards":{"total":1,"successful":1,"skipped":0,"failed":0},"hits":{"hits":[]}}"""),
        _ => (500, """{"error":{"type":"unexpected","reason":"no canned response"},"status":500}"""),
    };

    private static List<JsonElement> BulkLines(RecordedRequest request) =>
        request.Body.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement).ToList();

    /// <summary>Returns the block of one <see cref="HubVisits"/> row of <paramref name="hub"/>, as the store writes it.</summary>
    private static byte[] EncodeBlock(string hub)
    {
        var buffer = new ViewBlockBuffer();
        ViewBlockCodec.Write(buffer, Rows([hub]).ToList());
        return buffer.Written.ToArray();
    }

    private static BucketRows<UtcHour> HourRows(UtcHour hour, params string[] hubs) => new(hour, Rows(hubs));

    private static BucketRows<UtcDay> DayRows(UtcDay day, params string[] hubs) => new(day, Rows(hubs));

    private static Dictionary<AggregationKey, AggregateRow> Rows(string[] hubs) =>
        hubs.ToDictionary(hub => new AggregationKey([hub]), hub =>
        {
            var row = HubVisits.CreateRow();
            row.Add(new LambdaEvent { Id = "visit-" + hub, Type = EventType.HubVisited, OccurredAt = Hour.Start, HubId = hub });
            return row;
        });
}
