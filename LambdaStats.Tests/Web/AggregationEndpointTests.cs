using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using LambdaStats.Tests.Support;

namespace LambdaStats.Tests.Web;

[TestFixture]
public sealed class AggregationEndpointTests
{
    private LambdaStatsFactory factory = null!;
    private HttpClient client = null!;

    [SetUp]
    public void SetUp()
    {
        factory = new LambdaStatsFactory();
        client = factory.CreateClient();
    }

    [TearDown]
    public void TearDown()
    {
        client.Dispose();
        factory.Dispose();
    }

    /// <summary>The README's first example: post an event, read it back, run the batch, read it again.</summary>
    [Test]
    public async Task ReadmeExample_BeforeAndAfterBatch_SameAnswer()
    {
        var occurredAt = DateTimeOffset.UtcNow.AddHours(-1);
        var post = await client.PostAsync("/api/events", Json($$"""{"id":"readme-1","type":"MediaOpened","occurredAt":"{{occurredAt:O}}","hubId":"demo","mediaId":"brochure.pdf"}"""));
        var url = $"/api/hubs/demo/aggregations/mediaConsultations?from={Midnight(occurredAt.AddDays(-1))}&groupBy=mediaId";
        var before = await client.GetFromJsonAsync<JsonObject>(url);
        var run = await client.PostAsync("/api/admin/batch/run", null);
        var runBody = await run.Content.ReadFromJsonAsync<JsonObject>();
        var after = await client.GetFromJsonAsync<JsonObject>(url);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(post.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That((long?)before!["totals"]!["consultations"], Is.EqualTo(1));
            Assert.That((long?)before["totals"]!["consulted"], Is.EqualTo(1));
            Assert.That((string?)before["groups"]![0]!["key"]!["mediaId"], Is.EqualTo("brochure.pdf"));
            Assert.That(before["watermark"], Is.Null, "no batch has run yet");
            Assert.That(run.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That((string?)runBody!["watermark"], Is.Not.Null);
            Assert.That((string?)after!["watermark"], Is.EqualTo((string?)runBody["watermark"]));
            Assert.That(after["totals"]!.ToJsonString(), Is.EqualTo(before["totals"]!.ToJsonString()));
            Assert.That(after["groups"]!.ToJsonString(), Is.EqualTo(before["groups"]!.ToJsonString()));
        }
    }

    [Test]
    public async Task Query_UnknownAggregation_Returns404ListingKnownNames()
    {
        var response = await client.GetAsync("/api/hubs/h1/aggregations/nope?from=2026-01-01T00:00:00Z");
        var problem = await response.Content.ReadFromJsonAsync<JsonObject>();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
            Assert.That((string?)problem!["detail"], Does.Contain("mediaConsultations").And.Contain("pageViews"));
            Assert.That(problem["known"]!.AsArray().Count, Is.EqualTo(11));
        }
    }

    [TestCase("from=yesterday", "from")]
    [TestCase("from=2026-01-01T00:00:00", "from")]
    [TestCase("from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", "from")]
    [TestCase("from=2026-01-01T00:00:00Z&to=2026-13-01T00:00:00Z", "to")]
    [TestCase("from=2026-01-01T00:00:00Z&limit=0", "limit")]
    [TestCase("from=2026-01-01T00:00:00Z&groupBy=page", "groupBy")]
    [TestCase("from=2026-01-01T00:00:00Z&network=x", "network")]
    [TestCase("to=2026-01-01T00:00:00Z", "from")]
    [TestCase("from=2000-01-01T00:00:00Z&to=9999-12-31T23:59:59Z", "to")]
    [TestCase("from=0001-01-01T00:00:00Z", "from")]
    [TestCase("from=2026-01-01T00:00:00Z&mediaId=m1&mediaId=m2", "mediaId")]
    [TestCase("from=2026-01-01T00:00:00Z&from=2026-01-02T00:00:00Z", "from")]
    public async Task Query_InvalidParameter_Returns400NamingIt(string parameters, string expectedParameter)
    {
        var response = await client.GetAsync($"/api/hubs/h1/aggregations/mediaConsultations?{parameters}");
        var problem = await response.Content.ReadFromJsonAsync<JsonObject>();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That((string?)problem!["parameter"], Is.EqualTo(expectedParameter));
        }
    }

    [TestCase("from=2026-01-01T00:00:00Z&mediaId=m1&mediaId=m2", "mediaId is given 2 times; give each parameter once. A key filter takes one value.")]
    [TestCase("from=2026-01-01T00:00:00Z&from=2026-01-02T00:00:00Z", "from is given 2 times; give each parameter once.")]
    public async Task Query_RepeatedParameter_HintsOnlyFilters(string parameters, string expectedDetail)
    {
        var response = await client.GetAsync($"/api/hubs/h1/aggregations/mediaConsultations?{parameters}");
        var problem = await response.Content.ReadFromJsonAsync<JsonObject>();

        Assert.That((string?)problem!["detail"], Is.EqualTo(expectedDetail));
    }

    [Test]
    public async Task Query_FromAfterTo_NamesBothInstants()
    {
        var response = await client.GetAsync("/api/hubs/h1/aggregations/mediaConsultations?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00.5Z");
        var problem = await response.Content.ReadFromJsonAsync<JsonObject>();

        Assert.That((string?)problem!["detail"], Does.Contain("from (2026-01-02T00:00:00Z) must be before to (2026-01-01T00:00:00.5Z)"));
    }

    [Test]
    public async Task Query_PageViews_ReturnsProjectionsByPage()
    {
        var at = DateTimeOffset.UtcNow.AddMinutes(-10);
        var body = $$"""
            [
              {"id":"p1","type":"PageViewed","occurredAt":"{{at:O}}","hubId":"h1","mediaId":"doc","page":1,"durationSeconds":12.5},
              {"id":"p2","type":"PageViewed","occurredAt":"{{at:O}}","hubId":"h1","mediaId":"doc","page":2,"durationSeconds":4},
              {"id":"p3","type":"PageViewed","occurredAt":"{{at:O}}","hubId":"h1","mediaId":"doc","page":1},
              {"id":"p4","type":"PageViewed","occurredAt":"{{at:O}}","hubId":"h2","mediaId":"doc","page":1,"durationSeconds":100}
            ]
            """;
        await client.PostAsync("/api/events", Json(body));
        var answer = await client.GetFromJsonAsync<JsonObject>($"/api/hubs/h1/aggregations/pageViews?from={Midnight(at)}&mediaId=doc");

        Assert.That(
            answer!["totals"]!.ToJsonString(),
            Is.EqualTo("""{"views":3,"seconds":16.5,"secondsByPage":{"1":12.5,"2":4},"viewsByPage":{"1":2,"2":1}}"""));
    }

    [Test]
    public async Task Aggregations_List_ShowsConfiguredCatalogue()
    {
        var list = await client.GetFromJsonAsync<JsonArray>("/api/aggregations");

        Assert.That(
            list!.Select(a => (string?)a!["name"]),
            Is.EquivalentTo(new[] { "mediaConsultations", "pageViews", "shares", "downloads", "hubVisits", "printOrders", "contactRequests", "readConfirmations", "uploads", "subscriptions", "unsubscriptions" }));
    }

    [Test]
    public async Task Aggregations_List_ShowsDistinctCountMode()
    {
        var list = await client.GetFromJsonAsync<JsonArray>("/api/aggregations");

        var hubVisits = list!.Single(a => (string?)a!["name"] == "hubVisits")!;
        var uniqueVisitors = hubVisits["outputs"]!.AsArray().Single(o => (string?)o!["name"] == "uniqueVisitors")!;
        using (Assert.EnterMultipleScope())
        {
            Assert.That((string?)uniqueVisitors["aggregator"], Is.EqualTo("distinctCount"));
            Assert.That((string?)uniqueVisitors["field"], Is.EqualTo("visitorId"));
            Assert.That((string?)uniqueVisitors["mode"], Is.EqualTo("exact"));
            Assert.That(uniqueVisitors["precision"], Is.Null);
        }
    }

    /// <summary>Unique visitors over two hours: one visitor came back, one visit had no visitor.</summary>
    [Test]
    public async Task HubVisits_ReturningVisitor_CountedOnce()
    {
        var first = DateTimeOffset.UtcNow.AddHours(-2);
        var second = first.AddHours(1);
        var body = $$"""
            [
              {"id":"visit-1","type":"HubVisited","occurredAt":"{{first:O}}","hubId":"h1","visitorId":"alice"},
              {"id":"visit-2","type":"HubVisited","occurredAt":"{{first:O}}","hubId":"h1","visitorId":"bob"},
              {"id":"visit-3","type":"HubVisited","occurredAt":"{{second:O}}","hubId":"h1","visitorId":"alice"},
              {"id":"visit-4","type":"HubVisited","occurredAt":"{{second:O}}","hubId":"h1"}
            ]
            """;
        await client.PostAsync("/api/events", Json(body));
        var url = $"/api/hubs/h1/aggregations/hubVisits?from={Midnight(first.AddDays(-1))}";

        var before = await client.GetFromJsonAsync<JsonObject>(url);
        await client.PostAsync("/api/admin/batch/run", null);
        var after = await client.GetFromJsonAsync<JsonObject>(url);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(before!["totals"]!.ToJsonString(), Is.EqualTo("""{"visits":4,"uniqueVisitors":2}"""), "from the speed layer");
            Assert.That(after!["totals"]!.ToJsonString(), Is.EqualTo("""{"visits":4,"uniqueVisitors":2}"""), "from the batch views");
        }
    }

    [Test]
    public async Task Health_AfterStart_LiveAndReady()
    {
        var live = await client.GetAsync("/health/live");
        var ready = await client.GetAsync("/health/ready");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(live.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(ready.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static string Midnight(DateTimeOffset instant) =>
        instant.UtcDateTime.ToString("yyyy-MM-dd'T'00:00:00'Z'", System.Globalization.CultureInfo.InvariantCulture);
}
