using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Tests.Support;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace LambdaStats.Tests.Web;

[TestFixture]
public sealed class EventIngestionEndpointTests
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

    [Test]
    public async Task SameEvent_ThreeTimesViaBusAndHttp_CountsOnceEverywhere()
    {
        var occurredAt = DateTimeOffset.UtcNow.AddHours(-2);
        var bus = factory.Services.GetRequiredService<IBus>();
        var observer = new ConsumeWatcher();
        using var handle = bus.ConnectConsumeObserver(observer);

        await bus.Publish(new RecordAudienceEvent("dup-1", "MediaOpened", occurredAt.ToString("O"), "h1", "m1"));
        await observer.WaitAsync(1);
        var first = await PostAsync(EventJson("dup-1", occurredAt));
        var second = await PostAsync(EventJson("dup-1", occurredAt));
        var beforeBatch = await ConsultationsAsync(occurredAt);

        var run = await client.PostAsync("/api/admin/batch/run", null);
        await bus.Publish(new RecordAudienceEvent("dup-1", "MediaOpened", occurredAt.ToString("O"), "h1", "m1"));
        await observer.WaitAsync(2);
        var afterBatch = await ConsultationsAsync(occurredAt);
        var status = await client.GetFromJsonAsync<JsonObject>("/api/admin/status");
        var consultations = status!["aggregations"]!.AsArray().Single(a => (string?)a!["aggregation"] == "mediaConsultations")!;

        using (Assert.EnterMultipleScope())
        {
            Assert.That((int?)first["accepted"], Is.EqualTo(0), "HTTP after bus: accepted");
            Assert.That((int?)first["duplicates"], Is.EqualTo(1), "HTTP after bus: duplicates");
            Assert.That((int?)second["duplicates"], Is.EqualTo(1), "second HTTP post: duplicates");
            Assert.That((long?)beforeBatch["totals"]!["consultations"], Is.EqualTo(1), "answer from the speed layer");
            Assert.That(run.StatusCode, Is.EqualTo(HttpStatusCode.OK), "batch run");
            Assert.That((string?)afterBatch["watermark"], Is.Not.Null, "watermark after the batch");
            Assert.That((long?)afterBatch["totals"]!["consultations"], Is.EqualTo(1), "answer from the batch views");
            Assert.That((long?)consultations["storedEvents"], Is.EqualTo(1), "stored events");
            Assert.That(consultations["speedHours"]!.AsArray().Select(h => (string?)h), Does.Not.Contain(HourText(occurredAt)), "the event's hour is no longer in the speed layer");
            Assert.That((long?)status["memory"]!["managedHeapBytes"], Is.GreaterThan(0), "managed heap in the status");
        }
    }

    [Test]
    public async Task Post_MixedBatch_ReportsEachRejectionWithFieldAndRule()
    {
        var now = DateTimeOffset.UtcNow;
        var body = $$"""
            [
              {"id":"ok-1","type":"MediaOpened","occurredAt":"{{now:O}}","hubId":"h1","mediaId":"m1"},
              {"id":"bad-type","type":"MediaExploded","occurredAt":"{{now:O}}","hubId":"h1"},
              {"id":"no-offset","type":"HubVisited","occurredAt":"2026-01-10T10:00:00","hubId":"h1"},
              {"id":"future","type":"HubVisited","occurredAt":"{{now.AddDays(1):O}}","hubId":"h1"},
              {"id":"bad-page","type":"PageViewed","occurredAt":"{{now:O}}","hubId":"h1","mediaId":"m1","page":0},
              {"type":"HubVisited","occurredAt":"{{now:O}}","hubId":"h1"},
              {"id":"ok-1","type":"MediaOpened","occurredAt":"{{now:O}}","hubId":"h1","mediaId":"m1"},
              {"id":"huge","type":"PageViewed","occurredAt":"{{now:O}}","hubId":"h1","mediaId":"m1","page":1,"durationSeconds":1.7e308},
              {"id":"slash","type":"HubVisited","occurredAt":"{{now:O}}","hubId":"a/b"}
            ]
            """;
        var answer = await PostAsync(body);
        var rejected = answer["rejected"]!.AsArray();

        using (Assert.EnterMultipleScope())
        {
            Assert.That((int?)answer["accepted"], Is.EqualTo(1));
            Assert.That((int?)answer["duplicates"], Is.EqualTo(1));
            Assert.That(rejected.Select(r => (int?)r!["index"]), Is.EqualTo(new int?[] { 1, 2, 3, 4, 5, 7, 8 }));
            Assert.That((string?)rejected[0]!["error"], Does.StartWith("type: unknown event type 'MediaExploded'"));
            Assert.That((string?)rejected[1]!["error"], Does.StartWith("occurredAt: must be an ISO-8601 timestamp with an offset"));
            Assert.That((string?)rejected[2]!["error"], Does.Contain("in the future"));
            Assert.That((string?)rejected[3]!["error"], Does.StartWith("page: must be an integer of 1 or more"));
            Assert.That((string?)rejected[4]!["error"], Is.EqualTo("id: required"));
            Assert.That((string?)rejected[4]!["id"], Is.Null);
            Assert.That((string?)rejected[5]!["error"], Does.StartWith("durationSeconds: must be a number from 0 to 1000000000"));
            Assert.That((string?)rejected[6]!["error"], Does.StartWith("hubId: must not contain '/'"));
        }
    }

    [Test]
    public async Task Post_InvalidUtf8_RejectsOnlyThatEvent()
    {
        var now = DateTimeOffset.UtcNow;
        var text = $$"""
            [
              {"id":"utf8-ok","type":"MediaOpened","occurredAt":"{{now:O}}","hubId":"h1","mediaId":"m1"},
              {"id":"utf8-bad","type":"MediaOpened","occurredAt":"{{now:O}}","hubId":"h1","mediaId":"m#"}
            ]
            """;
        var bytes = Encoding.UTF8.GetBytes(text);
        bytes[Array.IndexOf(bytes, (byte)'#')] = 0xFF;
        using var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new("application/json");

        var response = await client.PostAsync("/api/events", content);
        var answer = await response.Content.ReadFromJsonAsync<JsonObject>();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That((int?)answer!["accepted"], Is.EqualTo(1));
            Assert.That((int?)answer["rejected"]![0]!["index"], Is.EqualTo(1));
            Assert.That((string?)answer["rejected"]![0]!["error"], Is.EqualTo("mediaId: must be valid Unicode text (UTF-8 without unpaired surrogates)"));
        }
    }

    [Test]
    public async Task Post_InvalidJson_Returns400Problem()
    {
        var response = await client.PostAsync("/api/events", new StringContent("{\"id\": ", Encoding.UTF8, "application/json"));
        var problem = await response.Content.ReadFromJsonAsync<JsonObject>();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
            Assert.That((string?)problem!["title"], Is.EqualTo("The request body is not valid JSON."));
        }
    }

    [Test]
    public async Task Post_NumberBody_Returns400NamingTheKind()
    {
        var response = await client.PostAsync("/api/events", new StringContent("42", Encoding.UTF8, "application/json"));
        var problem = await response.Content.ReadFromJsonAsync<JsonObject>();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That((string?)problem!["detail"], Does.Contain("got a JSON Number"));
        }
    }

    [Test]
    public async Task Post_TooManyEvents_Returns413WithLimits()
    {
        var body = "[" + string.Join(",", Enumerable.Repeat("{}", 10_001)) + "]";
        var response = await client.PostAsync("/api/events", new StringContent(body, Encoding.UTF8, "application/json"));
        var problem = await response.Content.ReadFromJsonAsync<JsonObject>();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.RequestEntityTooLarge));
            Assert.That((string?)problem!["detail"], Does.Contain("10,000 events").And.Contain("10 MB"));
        }
    }

    [Test]
    public async Task Post_BodyOver10MB_Returns413WithLimits()
    {
        var body = new string(' ', 10 * 1024 * 1024 + 1);
        var response = await client.PostAsync("/api/events", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.RequestEntityTooLarge));
    }

    [Test]
    public async Task Bus_InvalidEvent_FaultsWithReasonAndStoresNothing()
    {
        var bus = factory.Services.GetRequiredService<IBus>();
        var observer = new ConsumeWatcher();
        using var handle = bus.ConnectConsumeObserver(observer);

        await bus.Publish(new RecordAudienceEvent("bus-bad", "MediaOpened", DateTimeOffset.UtcNow.ToString("O"), "h1", MediaId: null));
        var fault = await observer.WaitForFaultAsync();
        var status = await client.GetFromJsonAsync<JsonObject>("/api/admin/status");
        var consultations = status!["aggregations"]!.AsArray().Single(a => (string?)a!["aggregation"] == "mediaConsultations")!;

        using (Assert.EnterMultipleScope())
        {
            Assert.That(fault, Is.TypeOf<LambdaStats.Modules.Events.Bus.EventRejectedException>());
            Assert.That(fault.Message, Does.Contain("mediaId: required"));
            Assert.That((long?)consultations["storedEvents"], Is.EqualTo(0));
        }
    }

    private static string EventJson(string id, DateTimeOffset occurredAt) =>
        $$"""{"id":"{{id}}","type":"MediaOpened","occurredAt":"{{occurredAt:O}}","hubId":"h1","mediaId":"m1"}""";

    private static string HourText(DateTimeOffset instant) =>
        new DateTimeOffset(instant.UtcTicks - instant.UtcTicks % TimeSpan.TicksPerHour, TimeSpan.Zero).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);

    private async Task<JsonObject> PostAsync(string json)
    {
        var response = await client.PostAsync("/api/events", new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    private async Task<JsonObject> ConsultationsAsync(DateTimeOffset around)
    {
        var from = around.AddDays(-1).UtcDateTime.ToString("yyyy-MM-dd'T'00:00:00'Z'", System.Globalization.CultureInfo.InvariantCulture);
        return (await client.GetFromJsonAsync<JsonObject>($"/api/hubs/h1/aggregations/mediaConsultations?from={from}"))!;
    }

    /// <summary>Counts consumed bus messages and records faults, so a test can wait for the consumer.</summary>
    private sealed class ConsumeWatcher : IConsumeObserver
    {
        private readonly SemaphoreSlim consumed = new(0);
        private readonly TaskCompletionSource<Exception> faulted = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int seen;

        public async Task WaitAsync(int count)
        {
            while (seen < count)
            {
                Assert.That(await consumed.WaitAsync(TimeSpan.FromSeconds(30)), Is.True, "the consumer did not consume the message in 30 s");
                seen++;
            }
        }

        public Task<Exception> WaitForFaultAsync() => faulted.Task.WaitAsync(TimeSpan.FromSeconds(30));

        public Task PreConsume<T>(ConsumeContext<T> context) where T : class => Task.CompletedTask;

        public Task PostConsume<T>(ConsumeContext<T> context) where T : class
        {
            consumed.Release();
            return Task.CompletedTask;
        }

        public Task ConsumeFault<T>(ConsumeContext<T> context, Exception exception) where T : class
        {
            faulted.TrySetResult(exception);
            return Task.CompletedTask;
        }
    }
}
