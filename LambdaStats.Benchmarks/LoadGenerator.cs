using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;
using LambdaStats.Benchmarks.Support;

namespace LambdaStats.Benchmarks;

/// <summary>
/// <c>loadgen</c>: posts batches of events to <c>POST /api/events</c> from several connections until
/// a count or a duration is reached, then prints one JSON line with the totals.
/// </summary>
/// <remarks>
/// The ingest and soak harnesses start it as a separate process, so the sender's CPU time is not
/// spent inside the service's process. Only loopback URLs are accepted.
/// </remarks>
internal static class LoadGenerator
{
    public static async Task<int> RunAsync(Options options)
    {
        var url = new Uri(options.String("url", "http://127.0.0.1:5000"));
        if (!url.IsLoopback)
        {
            Console.Error.WriteLine($"--url must point to a loopback address (127.0.0.1 or localhost), got '{url}'.");
            return 2;
        }

        var maxEvents = options.PositiveLong("events", 3_000_000);
        var maxDuration = TimeSpan.FromSeconds(options.PositiveLong("seconds", 60));
        var batchSize = options.PositiveInt("batch", 1_000);
        var concurrency = options.PositiveInt("concurrency", 4);
        var rate = options.NonNegativeLong("rate", 0);
        var hubs = options.PositiveInt("hubs", 100);
        var media = options.PositiveInt("media", 10_000);
        var visitors = options.NonNegativeInt("visitors", 1_000_000);
        var runId = options.String("run-id", Guid.NewGuid().ToString("N")[..8]);

        // Each request draws the type, hub, media, page and visitor of every event anew, so the
        // speed layer receives as many distinct keys as these populations give.
        var writer = new EventBatchWriter(runId, hubs, media, visitors);

        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = concurrency, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        using var client = new HttpClient(handler) { BaseAddress = url, Timeout = TimeSpan.FromSeconds(60) };

        var totals = new Totals();
        var next = 0L;
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, concurrency).Select(worker => Task.Run(async () =>
        {
            var buffer = new byte[writer.MaxBodyLength(batchSize)];
            var random = new Random(42 + worker);
            var latencies = new List<double>();
            while (true)
            {
                var first = Interlocked.Add(ref next, batchSize) - batchSize;
                if (first >= maxEvents || clock.Elapsed >= maxDuration || totals.ServiceGone)
                {
                    break;
                }

                if (rate > 0)
                {
                    // Paces the whole run at `rate` events per second: this batch is due when the
                    // events before it have had their share of time.
                    var due = TimeSpan.FromSeconds((double)first / rate);
                    var wait = due - clock.Elapsed;
                    if (wait > TimeSpan.Zero)
                    {
                        await Task.Delay(wait);
                    }
                }

                var length = writer.Write(buffer, first, batchSize, DateTimeOffset.UtcNow, random);
                using var content = new ByteArrayContent(buffer, 0, length);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

                var started = clock.Elapsed;
                try
                {
                    using var response = await client.PostAsync("/api/events", content);
                    var text = await response.Content.ReadAsByteArrayAsync();
                    latencies.Add((clock.Elapsed - started).TotalMilliseconds);
                    if (!response.IsSuccessStatusCode)
                    {
                        totals.AddError($"HTTP {(int)response.StatusCode}: {System.Text.Encoding.UTF8.GetString(text)}");
                        continue;
                    }

                    using var document = JsonDocument.Parse(text);
                    var root = document.RootElement;
                    totals.Add(batchSize, root.GetProperty("accepted").GetInt64(), root.GetProperty("duplicates").GetInt64(), root.GetProperty("rejected").GetArrayLength());
                }
                catch (HttpRequestException exception) when (exception.HttpRequestError == HttpRequestError.ConnectionError)
                {
                    // The service has stopped (the freshness harness stops it while this load
                    // runs), so the run ends instead of retrying until its duration is up.
                    totals.AddError(exception.Message);
                    totals.ServiceGone = true;
                }
                catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
                {
                    totals.AddError(exception.Message);
                }
            }

            return latencies;
        })).ToArray();

        var allLatencies = (await Task.WhenAll(workers)).SelectMany(l => l).ToList();
        var seconds = clock.Elapsed.TotalSeconds;
        var latency = allLatencies.Count > 0 ? new Percentiles(allLatencies) : null;
        var summary = new
        {
            sent = totals.Sent,
            accepted = totals.Accepted,
            duplicates = totals.Duplicates,
            rejected = totals.Rejected,
            errors = totals.Errors,
            firstError = totals.FirstError,
            seconds,
            acceptedPerSecond = totals.Accepted / seconds,
            requestP50Ms = latency?.At(50),
            requestP99Ms = latency?.At(99),
            batchSize,
            concurrency,
            rate,
            hubs,
            media,
            visitors,
        };
        Console.WriteLine(JsonSerializer.Serialize(summary));
        return totals.Errors == 0 ? 0 : 1;
    }

    private sealed class Totals
    {
        private readonly object sync = new();
        private volatile bool serviceGone;

        public long Sent { get; private set; }

        public long Accepted { get; private set; }

        public long Duplicates { get; private set; }

        public long Rejected { get; private set; }

        public long Errors { get; private set; }

        public string? FirstError { get; private set; }

        /// <summary>Whether a request failed to connect, so the workers stop.</summary>
        public bool ServiceGone
        {
            get => serviceGone;
            set => serviceGone = value;
        }

        public void Add(long sent, long accepted, long duplicates, long rejected)
        {
            lock (sync)
            {
                Sent += sent;
                Accepted += accepted;
                Duplicates += duplicates;
                Rejected += rejected;
            }
        }

        public void AddError(string message)
        {
            lock (sync)
            {
                Errors++;
                FirstError ??= message;
            }
        }
    }
}

/// <summary>The JSON line that <c>loadgen</c> prints, as the harnesses read it back.</summary>
internal sealed record LoadSummary(
    long Sent,
    long Accepted,
    long Duplicates,
    long Rejected,
    long Errors,
    string? FirstError,
    double Seconds,
    double AcceptedPerSecond,
    double? RequestP50Ms,
    double? RequestP99Ms,
    int BatchSize,
    int Concurrency,
    long Rate);
