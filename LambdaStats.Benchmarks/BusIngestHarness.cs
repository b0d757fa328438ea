using System.Diagnostics;
using System.Text;
using LambdaStats.Benchmarks.Support;
using RabbitMQ.Client;

namespace LambdaStats.Benchmarks;

/// <summary>
/// <c>bus-ingest</c>: events sent to RabbitMQ, one per message, and consumed by the service with
/// <c>Bus:Transport=RabbitMq</c>, on its embedded SQLite store.
/// </summary>
/// <remarks>
/// Sends every message as plain JSON to the consumer's queue while the service consumes them, and
/// gives the events stored per second from the first send to the last stored event. With
/// <c>--prefill</c>, sends them while the service is stopped and gives the rate at which it drains
/// the queue once ready. Then stops the service with SIGTERM and counts the rows of <c>events.db</c>.
/// </remarks>
internal static class BusIngestHarness
{
    private const string Queue = "audience-event-json";

    public static async Task<int> RunAsync(Options options)
    {
        var broker = options.String("rabbitmq", "127.0.0.1:5672");
        var events = options.PositiveInt("events", 200_000);
        var prefetch = options.PositiveInt("prefetch", 256);
        var workDirectory = RepositoryPaths.CreateWorkDirectory("lambdastats-bus-ingest", options.OptionalString("work-dir"));
        var webDll = RepositoryPaths.FindWebDll(options.OptionalString("web-dll"));
        var separator = broker.LastIndexOf(':');
        var host = broker[..separator];
        var port = int.Parse(broker[(separator + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        Console.WriteLine($"# work directory: {workDirectory}");

        var settings = new Dictionary<string, string>
        {
            ["Bus__Transport"] = "RabbitMq",
            ["Bus__RabbitMq__Host"] = host,
            ["Bus__RabbitMq__Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Bus__RabbitMq__PrefetchCount"] = prefetch.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };

        var prefill = options.Flag("prefill");
        double sendSeconds = 0;
        double storeSeconds;
        long storedBeforeStop;
        long storedAtStart = 0;
        await using var connection = await new ConnectionFactory { HostName = host, Port = port }.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        if (prefill)
        {
            // A first start declares the consumer's queue with MassTransit's arguments; the
            // messages then wait in it while no service runs.
            await (await ServiceProcess.StartAsync(webDll, workDirectory, TimeSpan.FromSeconds(60), settings)).DisposeAsync();
            await channel.QueuePurgeAsync(Queue);
            var sending = Stopwatch.StartNew();
            await SendAsync(channel, events);
            sendSeconds = sending.Elapsed.TotalSeconds;
        }

        var service = await ServiceProcess.StartAsync(webDll, workDirectory, TimeSpan.FromSeconds(60), settings);
        await using (service)
        {
            using var client = new HttpClient { BaseAddress = service.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
            var clock = Stopwatch.StartNew();
            if (prefill)
            {
                storedAtStart = (await ServiceStatus.TryReadAsync(client, CancellationToken.None))?.StoredEvents ?? 0;
            }
            else
            {
                await channel.QueuePurgeAsync(Queue);
                await SendAsync(channel, events);
            }

            if (!prefill)
            {
                sendSeconds = clock.Elapsed.TotalSeconds;
            }
            storedBeforeStop = await WaitForStoredAsync(client, events, TimeSpan.FromMinutes(10));
            storeSeconds = clock.Elapsed.TotalSeconds;
        }

        var stored = EventDatabase.CountEvents(service.DataDirectory);
        Console.WriteLine(FormattableString.Invariant(
            $"sent {events:N0} messages in {sendSeconds:F1} s ({events / sendSeconds:N0}/s, publisher confirms){(prefill ? " before the service started" : "")}"));
        Console.WriteLine(prefill
            ? FormattableString.Invariant($"bus ingest throughput: {(storedBeforeStop - storedAtStart) / storeSeconds:N0} events/s draining the queue ({storedAtStart:N0} already stored when the service was ready, the rest {storeSeconds:F1} s later; one event per message, prefetch {prefetch})")
            : FormattableString.Invariant($"bus ingest throughput: {storedBeforeStop / storeSeconds:N0} events/s from the first send to the last stored event ({storeSeconds:F1} s; one event per message, prefetch {prefetch})"));
        Console.WriteLine(FormattableString.Invariant(
            $"durability: events.db holds {stored:N0} rows after shutdown, sent {events:N0}: {(stored == events ? "equal" : "DIFFERENT")}"));
        if (!options.Flag("keep"))
        {
            Directory.Delete(workDirectory, recursive: true);
        }

        return stored == events ? 0 : 1;
    }

    /// <summary>Sends plain JSON events to the consumer's queue, persistent, with publisher confirms in windows of 1,000.</summary>
    private static async Task SendAsync(IChannel channel, int events)
    {
        var properties = new BasicProperties { ContentType = "application/json", DeliveryMode = DeliveryModes.Persistent };
        var occurredAt = DateTimeOffset.UtcNow.AddMinutes(-1).ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        var random = new Random(17);
        var window = new List<ValueTask>(1_000);
        for (var i = 0; i < events; i++)
        {
            var json = FormattableString.Invariant(
                $$"""{"id":"bus-{{i}}","type":"MediaOpened","occurredAt":"{{occurredAt}}","hubId":"hub-{{random.Next(100)}}","mediaId":"media-{{random.Next(10_000)}}","visitorId":"visitor-{{random.Next(1_000_000)}}"}""");
            window.Add(channel.BasicPublishAsync(string.Empty, Queue, mandatory: true, properties, Encoding.UTF8.GetBytes(json)));
            if (window.Count == window.Capacity)
            {
                foreach (var confirm in window)
                {
                    await confirm;
                }

                window.Clear();
            }
        }

        foreach (var confirm in window)
        {
            await confirm;
        }
    }

    private static async Task<long> WaitForStoredAsync(HttpClient client, long expected, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        long stored = 0;
        while (DateTime.UtcNow < deadline)
        {
            if (await ServiceStatus.TryReadAsync(client, CancellationToken.None) is { } status)
            {
                stored = status.StoredEvents;
                if (stored >= expected)
                {
                    return stored;
                }
            }

            await Task.Delay(100);
        }

        Console.Error.WriteLine(FormattableString.Invariant($"Only {stored:N0} of {expected:N0} events were stored within {timeout.TotalMinutes} minutes."));
        return stored;
    }
}
