using System.Text.Json;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.Events.Import;
using LambdaStats.Modules.Events.Ingestion;
using LambdaStats.Web.Cli;
using Microsoft.Extensions.Logging;

namespace LambdaStats.Tests.Import;

public sealed class HttpImportTargetTests
{
    private static readonly HttpImportRetryOptions FastRetry = new() { MaxAttempts = 3, FirstDelay = TimeSpan.FromMilliseconds(10) };

    private HttpClient client = null!;
    private RecordingLogger<HttpImportTarget> logger = null!;

    [SetUp]
    public void CreateClient()
    {
        client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        logger = new RecordingLogger<HttpImportTarget>();
    }

    [TearDown]
    public void DisposeClient() => client.Dispose();

    [Test]
    public async Task SendAsync_MappedEvents_PostsJsonArrayThatIngestionAccepts()
    {
        await using var server = await EventsTestServer.StartAsync();
        var target = CreateTarget(server.BaseUrl);
        var batch = new[] { MappedRecord(1, "/shuttle/missions/a.html", 200), MappedRecord(2, "/images/logo.gif", 200) };

        var result = await target.SendAsync(batch, CancellationToken.None);

        Assert.That(server.Requests, Has.Count.EqualTo(1));
        var request = server.Requests[0];
        using var body = JsonDocument.Parse(request.Body);
        var events = body.RootElement;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(result, Is.EqualTo(new ImportBatchResult(2, 0, [])).Using<ImportBatchResult>(SameCounts));
            Assert.That(request.Method, Is.EqualTo("POST"));
            Assert.That(request.Path, Is.EqualTo("/api/events"));
            Assert.That(request.ContentType, Is.EqualTo("application/json; charset=utf-8"));
            Assert.That(events.ValueKind, Is.EqualTo(JsonValueKind.Array));
            Assert.That(events.GetArrayLength(), Is.EqualTo(2));
        }

        var first = events[0];
        using (Assert.EnterMultipleScope())
        {
            Assert.That(first.GetProperty("id").GetString(), Is.EqualTo(batch[0].Validated!.Id));
            Assert.That(first.GetProperty("type").GetString(), Is.EqualTo("MediaOpened"));
            Assert.That(first.GetProperty("occurredAt").GetString(), Is.EqualTo("1995-08-01T06:00:00+00:00"));
            Assert.That(first.GetProperty("hubId").GetString(), Is.EqualTo("shuttle"));
            Assert.That(first.GetProperty("mediaId").GetString(), Is.EqualTo("/shuttle/missions/a.html"));
            Assert.That(first.GetProperty("visitorId").GetString(), Is.EqualTo("client.example.com"));
            Assert.That(first.TryGetProperty("sessionId", out _), Is.False);
            Assert.That(events[1].GetProperty("type").GetString(), Is.EqualTo("MediaDownloaded"));
        }

        // The service validates with EventParser, so each posted object must pass it.
        var parser = new EventParser(new IngestionOptions());
        foreach (var posted in events.EnumerateArray())
        {
            var outcome = parser.Parse(posted, DateTimeOffset.UtcNow);
            Assert.That(outcome.Error, Is.Null);
        }
    }

    [Test]
    public async Task SendAsync_JsonRecords_PostsValuesAsWritten()
    {
        await using var server = await EventsTestServer.StartAsync();
        var target = CreateTarget(server.BaseUrl);
        var batch = new[]
        {
            ImportRecord.FromJson(4, JsonSerializer.Deserialize<JsonElement>("""{"id":"a","custom":[1,2]}""")),
            ImportRecord.FromJson(9, JsonSerializer.Deserialize<JsonElement>("17")),
        };

        await target.SendAsync(batch, CancellationToken.None);

        Assert.That(server.Requests.Single().Body, Is.EqualTo("""[{"id":"a","custom":[1,2]},17]"""));
    }

    [Test]
    public async Task SendAsync_Rejections_MapIndexesToLineNumbers()
    {
        await using var server = await EventsTestServer.StartAsync((_, _) => (200,
            """{"accepted":1,"duplicates":1,"rejected":[{"index":1,"id":"b","error":"hubId: required"}]}"""));
        var target = CreateTarget(server.BaseUrl);
        var batch = new[] { JsonRecord(10), JsonRecord(20), JsonRecord(30) };

        var result = await target.SendAsync(batch, CancellationToken.None);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Accepted, Is.EqualTo(1));
            Assert.That(result.Duplicates, Is.EqualTo(1));
            Assert.That(result.Rejected, Is.EqualTo(new[] { new ImportRejection(20, "hubId: required") }));
        }
    }

    [Test]
    public async Task SendAsync_ServiceUnavailableOnce_RetriesWithWarning()
    {
        await using var server = await EventsTestServer.StartAsync((index, events) =>
            index == 0 ? (503, """{"error":"starting"}""") : (200, EventsTestServer.AcceptAll(events)));
        var target = CreateTarget(server.BaseUrl);

        var result = await target.SendAsync([JsonRecord(5), JsonRecord(6)], CancellationToken.None);

        var requests = server.Requests;
        var warnings = logger.Entries.Where(entry => entry.Level == LogLevel.Warning).ToList();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Accepted, Is.EqualTo(2));
            Assert.That(requests, Has.Count.EqualTo(2));
            Assert.That(requests[1].Body, Is.EqualTo(requests[0].Body));
            Assert.That(warnings, Has.Count.EqualTo(1));
            Assert.That(warnings[0].Message, Does.Contain("Attempt 1 of 3 for lines 5 to 6 failed"));
            Assert.That(warnings[0].Message, Does.Contain("503"));
        }
    }

    [Test]
    public async Task SendAsync_ServiceKeepsFailing_GivesUpAfterMaxAttempts()
    {
        await using var server = await EventsTestServer.StartAsync((_, _) => (500, """{"error":"database down"}"""));
        var target = CreateTarget(server.BaseUrl);

        var exception = Assert.ThrowsAsync<ImportTargetException>(() => target.SendAsync([JsonRecord(1)], CancellationToken.None));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(server.Requests, Has.Count.EqualTo(3));
            Assert.That(exception!.Message, Does.Contain("returned 500"));
            Assert.That(exception.Message, Does.Contain("database down"));
            Assert.That(exception.Message, Does.Contain("gave up after 3 attempts"));
        }
    }

    [Test]
    public async Task SendAsync_BadRequest_FailsWithoutRetry()
    {
        await using var server = await EventsTestServer.StartAsync((_, _) => (400, """{"error":"body must be an array"}"""));
        var target = CreateTarget(server.BaseUrl);

        var exception = Assert.ThrowsAsync<ImportTargetException>(() => target.SendAsync([JsonRecord(1)], CancellationToken.None));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(server.Requests, Has.Count.EqualTo(1));
            Assert.That(exception!.Message, Does.Contain("returned 400"));
            Assert.That(exception.Message, Does.Contain("body must be an array"));
        }
    }

    [Test]
    public async Task SendAsync_NoServiceListening_FailsAfterRetries()
    {
        Uri closedUrl;
        await using (var server = await EventsTestServer.StartAsync())
        {
            closedUrl = server.BaseUrl;
        }

        var target = CreateTarget(closedUrl);

        var exception = Assert.ThrowsAsync<ImportTargetException>(() => target.SendAsync([JsonRecord(1)], CancellationToken.None));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(exception!.InnerException, Is.InstanceOf<HttpRequestException>());
            Assert.That(exception.Message, Does.Contain("Connection refused"));
            Assert.That(exception.Message, Does.Contain("gave up after 3 attempts"));
            Assert.That(logger.Entries.Count(entry => entry.Level == LogLevel.Warning), Is.EqualTo(2));
        }
    }

    [TestCase("""{"accepted":5,"duplicates":0,"rejected":[]}""", "does not equal the 2 events sent")]
    [TestCase("""{"accepted":1,"duplicates":0,"rejected":[{"index":7,"error":"x"}]}""", "rejected index 7 is outside the batch")]
    [TestCase("""{"accepted":2}""", "expected an object")]
    [TestCase("""{"accepted":1,"duplicates":0,"rejected":[{"index":1}]}""", "must have the integer 'index' and the string 'error'")]
    [TestCase("""[]""", "expected an object")]
    [TestCase("""<html>""", "body that is not JSON")]
    public async Task SendAsync_InvalidResponse_Fails(string responseBody, string expectedMessage)
    {
        await using var server = await EventsTestServer.StartAsync((_, _) => (200, responseBody));
        var target = CreateTarget(server.BaseUrl);

        var exception = Assert.ThrowsAsync<ImportTargetException>(() => target.SendAsync([JsonRecord(1), JsonRecord(2)], CancellationToken.None));

        Assert.That(exception!.Message, Does.Contain(expectedMessage));
    }

    [TestCase("http://127.0.0.1:5000", "http://127.0.0.1:5000/api/events")]
    [TestCase("http://127.0.0.1:5000/", "http://127.0.0.1:5000/api/events")]
    [TestCase("https://stats.example.com/prefix/", "https://stats.example.com/prefix/api/events")]
    [TestCase("https://stats.example.com/prefix?x=1", "https://stats.example.com/prefix/api/events")]
    public void EventsUrl_ServiceUrl_AppendsApiEvents(string serviceUrl, string expected)
    {
        var target = CreateTarget(new Uri(serviceUrl));

        Assert.That(target.EventsUrl.ToString(), Is.EqualTo(expected));
    }

    private HttpImportTarget CreateTarget(Uri url) => new(client, url, TimeProvider.System, logger, FastRetry);

    private static bool SameCounts(ImportBatchResult x, ImportBatchResult y) =>
        x.Accepted == y.Accepted && x.Duplicates == y.Duplicates && x.Rejected.SequenceEqual(y.Rejected);

    private static ImportRecord JsonRecord(long lineNumber) =>
        ImportRecord.FromJson(lineNumber, JsonSerializer.Deserialize<JsonElement>($$"""{"id":"e{{lineNumber}}"}"""));

    private static ImportRecord MappedRecord(long lineNumber, string path, int status)
    {
        var line = $"client.example.com - - [01/Aug/1995:02:00:00 -0400] \"GET {path} HTTP/1.0\" {status} 100";
        Assert.That(AccessLogParser.TryParse(line, out var entry, out var error), Is.True, error);
        var mapped = AccessLogMapper.Map(entry!, lineNumber, line).Event;
        Assert.That(mapped, Is.Not.Null);
        return ImportRecord.FromEvent(lineNumber, mapped!);
    }
}
