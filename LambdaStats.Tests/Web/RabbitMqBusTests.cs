using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Tests.Support;
using MassTransit;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using RabbitMQ.Client;

namespace LambdaStats.Tests.Web;

/// <summary>
/// The service with <c>Bus:Transport=RabbitMq</c> against a real broker, whose address
/// (<c>host:port</c>, user guest) comes from <c>LAMBDASTATS_TEST_RABBITMQ</c>. <c>.ci/run</c>
/// starts one on 127.0.0.1:5672; without the variable, every test here is skipped with a message.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class RabbitMqBusTests
{
    private const string AddressVariable = "LAMBDASTATS_TEST_RABBITMQ";

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    // The queues of this run: the prefix keeps them apart from the queues of a service or
    // another test run on the same broker, and the teardown deletes them.
    private readonly string prefix = $"lambdastats-tests-{Guid.NewGuid():N}-";

    private string host = null!;
    private int port;
    private IConnection connection = null!;
    private IChannel channel = null!;

    [OneTimeSetUp]
    public async Task ConnectToBroker()
    {
        var address = Environment.GetEnvironmentVariable(AddressVariable);
        if (string.IsNullOrWhiteSpace(address))
        {
            Assert.Ignore($"Skipped: no RabbitMQ broker. Set {AddressVariable}=127.0.0.1:5672 to the address of one (user guest); .ci/run starts one.");
        }

        var separator = address.LastIndexOf(':');
        host = separator < 0 ? address : address[..separator];
        port = separator < 0 ? 5672 : int.Parse(address[(separator + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        // The error queue receives a 70 MiB message, above the client's default limit of 64 MiB.
        connection = await new ConnectionFactory { HostName = host, Port = port, MaxInboundMessageBodySize = 128 * 1024 * 1024 }.CreateConnectionAsync();
        channel = await connection.CreateChannelAsync();
    }

    private string EnvelopeQueue => prefix + "record-audience-event";

    private string JsonQueue => prefix + "audience-event-json";

    private string JsonErrorQueue => JsonQueue + "_error";

    [OneTimeTearDown]
    public async Task Disconnect()
    {
        if (channel is null)
        {
            return;
        }

        await DeleteQueuesAsync();
        foreach (var exchange in new[] { EnvelopeQueue, JsonQueue, EnvelopeQueue + "_error", JsonErrorQueue })
        {
            await OnOwnChannelAsync(deleting => deleting.ExchangeDeleteAsync(exchange));
        }

        await channel.DisposeAsync();
        await connection.DisposeAsync();
    }

    /// <summary>Each test starts without the messages of an earlier test.</summary>
    [SetUp]
    public Task StartWithoutMessages() => DeleteQueuesAsync();

    [Test]
    public async Task EnvelopeMessage_IsStoredAndCounted()
    {
        using var factory = new RabbitMqFactory(host, port, prefix);
        using var client = factory.CreateClient();
        await WaitUntilReadyAsync(client);
        var occurredAt = DateTimeOffset.UtcNow.AddHours(-1);

        // Sent to the queue rather than published: a publish would also reach every other queue
        // bound to the message type on this broker, such as a running service's.
        var queue = await factory.Services.GetRequiredService<IBus>().GetSendEndpoint(new Uri($"queue:{EnvelopeQueue}"));
        await queue.Send(new RecordAudienceEvent("rmq-1", "MediaOpened", occurredAt.ToString("O"), "h1", "m1"));
        var consultations = await WaitForConsultationsAsync(client, occurredAt, expected: 1);
        var queueDeclared = await OnOwnChannelAsync(checking => checking.QueueDeclarePassiveAsync(EnvelopeQueue));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(consultations, Is.EqualTo(1));
            Assert.That(queueDeclared, Is.True, "the consumer's queue exists on the broker");
        }
    }

    [Test]
    public async Task PlainJsonBody_FromOtherProducer_IsStored()
    {
        using var factory = new RabbitMqFactory(host, port, prefix);
        using var client = factory.CreateClient();
        await WaitUntilReadyAsync(client);
        var occurredAt = DateTimeOffset.UtcNow.AddHours(-1);

        await PublishJsonAsync(EventJson("plain-1", occurredAt));
        await PublishJsonAsync(EventJson("plain-2", occurredAt));
        await PublishJsonAsync(EventJson("plain-1", occurredAt));
        var consultations = await WaitForConsultationsAsync(client, occurredAt, expected: 2);
        var status = await client.GetFromJsonAsync<JsonObject>("/api/admin/status");
        var stored = status!["aggregations"]!.AsArray().Single(a => (string?)a!["aggregation"] == "mediaConsultations")!["storedEvents"];

        using (Assert.EnterMultipleScope())
        {
            Assert.That(consultations, Is.EqualTo(2), "the repeated id counts once");
            Assert.That((long?)stored, Is.EqualTo(2), "stored events");
        }
    }

    [Test]
    public async Task InvalidEvent_GoesToErrorQueue()
    {
        using var factory = new RabbitMqFactory(host, port, prefix);
        using var client = factory.CreateClient();
        await WaitUntilReadyAsync(client);
        var now = DateTimeOffset.UtcNow;

        await PublishJsonAsync($$"""{"id":"no-media","type":"MediaOpened","occurredAt":"{{now:O}}","hubId":"h1"}""");
        var faulted = await WaitForMessageAsync(JsonErrorQueue);
        var reason = FaultMessageOf(faulted);
        var status = await client.GetFromJsonAsync<JsonObject>("/api/admin/status");
        var stored = status!["aggregations"]!.AsArray().Single(a => (string?)a!["aggregation"] == "mediaConsultations")!["storedEvents"];

        using (Assert.EnterMultipleScope())
        {
            Assert.That(Encoding.UTF8.GetString(faulted.Body.Span), Does.Contain("no-media"), "the error queue keeps the message as sent");
            Assert.That(reason, Does.Contain("mediaId: required"));
            Assert.That((long?)stored, Is.EqualTo(0), "stored events");
        }
    }

    [Test]
    public async Task MessagesSentWhileStopped_AreConsumedAtStart()
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "lambdastats-tests", Guid.NewGuid().ToString("N"));
        var occurredAt = DateTimeOffset.UtcNow.AddHours(-1);
        try
        {
            using (var first = new RabbitMqFactory(host, port, prefix, dataDirectory))
            {
                // The first start declares the durable queue and its binding; then the service stops.
                using var client = first.CreateClient();
                await WaitUntilReadyAsync(client);
            }

            for (var i = 0; i < 50; i++)
            {
                await PublishJsonAsync(EventJson($"offline-{i}", occurredAt));
            }

            using var second = new RabbitMqFactory(host, port, prefix, dataDirectory);
            using var restarted = second.CreateClient();
            var consultations = await WaitForConsultationsAsync(restarted, occurredAt, expected: 50);

            Assert.That(consultations, Is.EqualTo(50));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            if (Directory.Exists(dataDirectory))
            {
                Directory.Delete(dataDirectory, recursive: true);
            }
        }
    }

    [TestCase("""{"ID":"upper-1","TYPE":"MediaOpened","OccurredAt":"2026-01-10T10:00:00Z","HubId":"h1","MEDIAID":"m1"}""", TestName = "JsonBody_OtherLetterCase_RejectedAsOverHttp")]
    [TestCase("""{"id":"page-text","type":"PageViewed","occurredAt":"2026-01-10T10:00:00Z","hubId":"h1","mediaId":"m1","page":"x"}""", TestName = "JsonBody_PageAsText_RejectedAsOverHttp")]
    [TestCase("""{"id":"page-real","type":"PageViewed","occurredAt":"2026-01-10T10:00:00Z","hubId":"h1","mediaId":"m1","page":2.0}""", TestName = "JsonBody_PageAsReal_RejectedAsOverHttp")]
    [TestCase("""{"id":123,"type":"MediaOpened","occurredAt":"2026-01-10T10:00:00Z","hubId":"h1","mediaId":"m1"}""", TestName = "JsonBody_NumericId_RejectedAsOverHttp")]
    public async Task JsonBody_Invalid_RejectedAsOverHttp(string json)
    {
        using var factory = new RabbitMqFactory(host, port, prefix);
        using var client = factory.CreateClient();
        await WaitUntilReadyAsync(client);

        var overHttp = await client.PostAsync("/api/events", new StringContent($"[{json}]", Encoding.UTF8, "application/json"));
        var httpError = (string?)(await overHttp.Content.ReadFromJsonAsync<JsonObject>())!["rejected"]!.AsArray().Single()!["error"];
        await PublishJsonAsync(json);
        var reason = FaultMessageOf(await WaitForMessageAsync(JsonErrorQueue));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(httpError, Is.Not.Null.And.Not.Empty, "HTTP rejects the event");
            Assert.That(reason, Does.EndWith($"rejected: {httpError}"), "the bus gives the reason that HTTP gives");
        }
    }

    [TestCase("[1,2]", "must be one JSON object, the event, not Array")]
    [TestCase("\"text\"", "must be one JSON object, the event, not String")]
    [TestCase("{\"id\":", "BytePositionInLine")]
    public async Task JsonBody_NotOneObject_RejectedWithReason(string body, string expected)
    {
        using var factory = new RabbitMqFactory(host, port, prefix);
        using var client = factory.CreateClient();
        await WaitUntilReadyAsync(client);

        await PublishJsonAsync(body);
        var reason = FaultMessageOf(await WaitForMessageAsync(JsonErrorQueue));

        Assert.That(reason, Does.Contain(expected));
    }

    [TestCase(null)]
    [TestCase("text/plain")]
    [TestCase("application/vnd.masstransit+json")]
    public async Task JsonBody_OtherContentType_IsStored(string? contentType)
    {
        using var factory = new RabbitMqFactory(host, port, prefix);
        using var client = factory.CreateClient();
        await WaitUntilReadyAsync(client);
        var occurredAt = DateTimeOffset.UtcNow.AddHours(-1);

        await PublishJsonAsync(EventJson("typed-1", occurredAt), contentType);
        var consultations = await WaitForConsultationsAsync(client, occurredAt, expected: 1);

        Assert.That(consultations, Is.EqualTo(1));
    }

    [TestCase(10 * 1024 * 1024 + 1)]
    [TestCase(70 * 1024 * 1024)]
    public async Task OversizedBody_MovesToErrorQueue(int bodyBytes)
    {
        using var factory = new RabbitMqFactory(host, port, prefix);
        using var client = factory.CreateClient();
        await WaitUntilReadyAsync(client);
        var occurredAt = DateTimeOffset.UtcNow.AddHours(-1);
        const string propertiesStart = ",\"properties\":{\"note\":\"";
        const string propertiesEnd = "\"}}";
        var start = EventJson("big-1", occurredAt).TrimEnd('}') + propertiesStart;
        var big = start + new string('x', bodyBytes - start.Length - propertiesEnd.Length) + propertiesEnd;

        await PublishJsonAsync(big);
        await PublishJsonAsync(EventJson("after-big", occurredAt));
        var consultations = await WaitForConsultationsAsync(client, occurredAt, expected: 1);
        var faulted = await WaitForMessageAsync(JsonErrorQueue);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(Encoding.UTF8.GetByteCount(big), Is.EqualTo(bodyBytes), "size of the sent body");
            Assert.That(consultations, Is.EqualTo(1), "the event sent after the large one is stored, and only it");
            Assert.That(faulted.Body.Length, Is.EqualTo(bodyBytes), "the error queue keeps the large message");
            Assert.That(FaultMessageOf(faulted), Does.Contain("bytes that an event may have"));
        }
    }

    private static string EventJson(string id, DateTimeOffset occurredAt) =>
        $$"""{"id":"{{id}}","type":"MediaOpened","occurredAt":"{{occurredAt:O}}","hubId":"h1","mediaId":"m1"}""";

    /// <summary>Sends a body to the plain JSON queue through the default exchange, as a producer without MassTransit does.</summary>
    private Task PublishJsonAsync(string json, string? contentType = "application/json") =>
        PublishBytesAsync(Encoding.UTF8.GetBytes(json), contentType);

    private async Task PublishBytesAsync(byte[] body, string? contentType = "application/json")
    {
        var properties = new BasicProperties { ContentType = contentType, DeliveryMode = DeliveryModes.Persistent };
        await channel.BasicPublishAsync(string.Empty, JsonQueue, mandatory: true, properties, body);
    }

    private static string? FaultMessageOf(BasicGetResult message) =>
        message.BasicProperties.Headers?["MT-Fault-Message"] is byte[] bytes ? Encoding.UTF8.GetString(bytes) : null;

    private async Task DeleteQueuesAsync()
    {
        foreach (var queue in new[] { EnvelopeQueue, JsonQueue, EnvelopeQueue + "_error", JsonErrorQueue })
        {
            await OnOwnChannelAsync(deleting => deleting.QueueDeleteAsync(queue));
        }
    }

    private async Task<BasicGetResult> WaitForMessageAsync(string queue)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (DateTime.UtcNow < deadline)
        {
            BasicGetResult? message = null;
            await OnOwnChannelAsync(async reading => message = await reading.BasicGetAsync(queue, autoAck: true));
            if (message is not null)
            {
                return message;
            }

            await Task.Delay(50);
        }

        Assert.Fail($"No message reached {queue} within {Patience.TotalSeconds} s.");
        return null!;
    }

    /// <summary>
    /// Runs <paramref name="operation"/> on a new channel. RabbitMQ 3.10 rejects an operation on a
    /// missing queue with a 404 error that closes the channel, so such an operation must not share one.
    /// </summary>
    /// <returns>False when the broker returned 404 because the queue does not exist.</returns>
    private async Task<bool> OnOwnChannelAsync(Func<IChannel, Task> operation)
    {
        var own = await connection.CreateChannelAsync();
        try
        {
            await operation(own);
            return true;
        }
        catch (RabbitMQ.Client.Exceptions.OperationInterruptedException missing) when (missing.ShutdownReason?.ReplyCode == 404)
        {
            return false;
        }
        finally
        {
            if (own.IsOpen)
            {
                await own.CloseAsync();
            }

            own.Dispose();
        }
    }

    /// <summary>Waits until the bus is connected: readiness includes MassTransit's bus check.</summary>
    private static async Task WaitUntilReadyAsync(HttpClient client)
    {
        var deadline = DateTime.UtcNow + Patience;
        HttpResponseMessage response;
        do
        {
            response = await client.GetAsync("/health/ready");
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return;
            }

            await Task.Delay(100);
        }
        while (DateTime.UtcNow < deadline);

        Assert.Fail($"/health/ready still answered {(int)response.StatusCode} after {Patience.TotalSeconds} s: {await response.Content.ReadAsStringAsync()}");
    }

    private static async Task<long?> WaitForConsultationsAsync(HttpClient client, DateTimeOffset around, long expected)
    {
        var from = around.AddDays(-1).UtcDateTime.ToString("yyyy-MM-dd'T'00:00:00'Z'", System.Globalization.CultureInfo.InvariantCulture);
        var deadline = DateTime.UtcNow + Patience;
        long? consultations;
        do
        {
            var answer = await client.GetFromJsonAsync<JsonObject>($"/api/hubs/h1/aggregations/mediaConsultations?from={from}");
            consultations = (long?)answer!["totals"]!["consultations"];
            if (consultations >= expected)
            {
                // A short pause shows a count that would go on past the expected one.
                await Task.Delay(200);
                answer = await client.GetFromJsonAsync<JsonObject>($"/api/hubs/h1/aggregations/mediaConsultations?from={from}");
                return (long?)answer!["totals"]!["consultations"];
            }

            await Task.Delay(50);
        }
        while (DateTime.UtcNow < deadline);

        return consultations;
    }

    private sealed class RabbitMqFactory(string host, int port, string queuePrefix, string? dataDirectory = null) : LambdaStatsFactory(dataDirectory)
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("Bus:Transport", "RabbitMq");
            builder.UseSetting("Bus:RabbitMq:QueuePrefix", queuePrefix);
            builder.UseSetting("Bus:RabbitMq:Host", host);
            builder.UseSetting("Bus:RabbitMq:Port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }
}
