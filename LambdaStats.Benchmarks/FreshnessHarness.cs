using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using LambdaStats.Benchmarks.Support;

namespace LambdaStats.Benchmarks;

/// <summary>
/// <c>freshness</c>: time from the response of <c>POST /api/events</c> to the first query result
/// that includes the event, measured idle and then under a background ingest load.
/// </summary>
/// <remarks>
/// Each probe posts one MediaOpened event to a hub that only probes use, then queries
/// mediaConsultations for that hub from the start of the UTC day until the total counts the
/// event, re-querying at once when it does not. The background load comes from the load
/// generator process at a fixed rate.
/// </remarks>
internal static class FreshnessHarness
{
    private const string ProbeHub = "freshness-probe";

    public static async Task<int> RunAsync(Options options)
    {
        var probes = options.PositiveInt("probes", 1_000);
        var backgroundRate = options.NonNegativeLong("background-rate", 50_000);
        var workDirectory = RepositoryPaths.CreateWorkDirectory("lambdastats-freshness", options.OptionalString("work-dir"));
        var webDll = RepositoryPaths.FindWebDll(options.OptionalString("web-dll"));
        Console.WriteLine($"# work directory: {workDirectory}");

        var failures = 0;
        var service = await ServiceProcess.StartAsync(webDll, workDirectory, TimeSpan.FromSeconds(60));
        await using (service)
        {
            using var client = new HttpClient { BaseAddress = service.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
            var expected = 0L;

            // Warm-up: JIT and connection, not recorded.
            expected = (await ProbeAsync(client, "warmup", 50, expected)).Expected;

            var idle = await ProbeAsync(client, "idle", probes, expected);
            expected = idle.Expected;
            failures += Report("idle", idle);

            var load = LoadGeneratorProcess.Start(service.BaseAddress,
                ["--events", "1000000000", "--seconds", "600", "--rate", backgroundRate.ToString(CultureInfo.InvariantCulture), "--concurrency", "2", "--run-id", "backgrnd"]);

            // Lets the background load reach its rate before probing.
            await Task.Delay(TimeSpan.FromSeconds(3));
            var loaded = await ProbeAsync(client, "loaded", probes, expected);
            failures += Report(FormattableString.Invariant($"under a background load of {backgroundRate:N0} events/s"), loaded);

            await service.StopAsync();
            var summary = await load.WaitAsync();
            Console.WriteLine(FormattableString.Invariant($"background load: {summary.Accepted:N0} events accepted at {summary.AcceptedPerSecond:N0} events/s"));
        }

        if (!options.Flag("keep"))
        {
            Directory.Delete(workDirectory, recursive: true);
        }

        return failures == 0 ? 0 : 1;
    }

    private static int Report(string phase, ProbeRun run)
    {
        Console.WriteLine($"freshness {phase}: {new Percentiles(run.Freshness).Describe()}");
        Console.WriteLine($"  ingest request (one event) {phase}: {new Percentiles(run.PostLatency).Describe()}");
        Console.WriteLine(FormattableString.Invariant($"  first query already included the event: {run.FirstQueryHits} of {run.Freshness.Count}"));
        return run.Freshness.Count == 0 ? 1 : 0;
    }

    private static async Task<ProbeRun> ProbeAsync(HttpClient client, string label, int count, long expected)
    {
        var freshness = new List<double>(count);
        var postLatency = new List<double>(count);
        var firstQueryHits = 0;
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            var now = DateTimeOffset.UtcNow;
            var body = $$"""{"id":"probe-{{label}}-{{i}}-{{Guid.NewGuid():N}}","type":"MediaOpened","occurredAt":"{{now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)}}","hubId":"{{ProbeHub}}","mediaId":"probe-media-{{i % 100}}"}""";
            using var content = new StringContent(body, Encoding.UTF8, "application/json");

            var postStarted = clock.Elapsed;
            using (var response = await client.PostAsync("/api/events", content))
            {
                response.EnsureSuccessStatusCode();
            }

            var acknowledged = clock.Elapsed;
            postLatency.Add((acknowledged - postStarted).TotalMilliseconds);
            expected++;

            var from = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero).AddDays(-1);
            var url = $"/api/hubs/{ProbeHub}/aggregations/mediaConsultations?from={from.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)}";
            for (var attempt = 1; ; attempt++)
            {
                var counted = await QueryConsultationsAsync(client, url);
                if (counted >= expected)
                {
                    freshness.Add((clock.Elapsed - acknowledged).TotalMilliseconds);
                    firstQueryHits += attempt == 1 ? 1 : 0;
                    break;
                }

                if (clock.Elapsed - acknowledged > TimeSpan.FromSeconds(10))
                {
                    throw new TimeoutException($"Probe {label}-{i} was not visible 10 s after its ingest response (query counted {counted}, expected {expected}).");
                }
            }
        }

        return new ProbeRun(freshness, postLatency, firstQueryHits, expected);
    }

    private static async Task<long> QueryConsultationsAsync(HttpClient client, string url)
    {
        using var response = await client.GetAsync(url);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"GET {url} failed with HTTP {(int)response.StatusCode}: {text}");
        }

        using var document = JsonDocument.Parse(text);
        return document.RootElement.GetProperty("totals").GetProperty("consultations").GetInt64();
    }

    private sealed record ProbeRun(List<double> Freshness, List<double> PostLatency, int FirstQueryHits, long Expected);
}
