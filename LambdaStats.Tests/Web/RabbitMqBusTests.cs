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

    // The consumer's queue as MassTransit's kebab-case formatter names it, and its error queue.
    private const string Queue = "record-audience-event";
    private const string ErrorQueue = "record-audience-event_error";

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

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
        connection = await new ConnectionFactory { HostName = host, Port = port }.CreateConnectionAsync();
        channel = await connection.CreateChannelAsync();
    }

    [OneTimeTearDown]
    public async Task Disconnect()
    {
        if (channel is not null)
        {
            await channel.DisposeAsync();
            await connection.DisposeAsync();
        }
    }

    /// <summary>Each test starts without the messages of an earlier test or run.</summary>
    [SetUp]
    public async Task DeleteQueues()
    {
        await OnOwnChannelAsync(deleting => deleting.QueueDeleteAsync(Queue));
        await OnOwnChannelAsync(deleting => deleting.QueueDeleteAsync(ErrorQueue));
    }

    [Test]
    public async Task PublishedMessage_IsStoredAndCounted()
    {
        using var factory = new RabbitMqFactory(host, port);
        using var client = factory.CreateClient();
        await WaitUntilReadyAsync(client);
        var occurredAt = DateTimeOffset.UtcNow.AddHours(-1);

        await factory.Services.GetRequiredService<IBus>().Publish(new RecordAudienceEvent("rmq-1", "MediaOpened", occurredAt.ToString("O"), "h1", "m1"));
        var consultations = await WaitForConsultationsAsync(client, occurredAt, expected: 1);
        var queueDeclared = await OnOwnChannelAsync(checking => checking.QueueDeclarePassiveAsync(Queue));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(consultations, Is.EqualTo(1));
            Assert.That(queueDeclared, Is.True, "the consumer's queue exists on the broker");
        }
    }

    [Test]
    public async Task PlainJsonBody_FromOtherProducer_IsStored()
    {
        using var factory = new RabbitMqFactory(host, port);
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
        using var factory = new RabbitMqFactory(host, port);
        using var client = factory.CreateClient();
        await WaitUntilReadyAsync(client);
        var now = DateTimeOffset.UtcNow;

        await PublishJsonAsync($$"""{"id":"no-media","type":"MediaOpened","occurredAt":"{{now:O}}","hubId":"h1"}""");
        var faulted = await WaitForMessageAsync(ErrorQueue);
        var reason = faulted.BasicProperties.Headers?["MT-Fault-Message"] is byte[] bytes ? Encoding.UTF8.GetString(bytes) : null;
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
            using (var first = new RabbitMqFactory(host, port, dataDirectory))
            {
                // The first start declares the durable queue and its binding; then the service stops.
                using var client = first.CreateClient();
                await WaitUntilReadyAsync(client);
            }

            for (var i = 0; i < 50; i++)
            {
                await PublishJsonAsync(EventJson($"offline-{i}", occurredAt));
            }

            using var second = new RabbitMqFactory(host, port, dataDirectory);
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

    private static string EventJson(string id, DateTimeOffset occurredAt) =>
        $$"""{"id":"{{id}}","type":"MediaOpened","occurredAt":"{{occurredAt:O}}","hubId":"h1","mediaId":"m1"}""";

    /// <summary>Sends a plain JSON body to the consumer's queue through the default exchange, as a producer without MassTransit does.</summary>
    private async Task PublishJsonAsync(string json)
    {
        var properties = new BasicProperties { ContentType = "application/json", DeliveryMode = DeliveryModes.Persistent };
        await channel.BasicPublishAsync(string.Empty, Queue, mandatory: true, properties, Encoding.UTF8.GetBytes(json));
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

    private sealed class RabbitMqFactory(string host, int port, string? dataDirectory = null) : LambdaStatsFactory(dataDirectory)
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("Bus:Transport", "RabbitMq");
            builder.UseSetting("Bus:RabbitMq:Host", host);
            builder.UseSetting("Bus:RabbitMq:Port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }
}
