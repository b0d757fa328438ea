using System.Diagnostics;
using System.Globalization;
using LambdaStats.Benchmarks.Support;

namespace LambdaStats.Benchmarks;

/// <summary>
/// <c>soak</c>: sustained HTTP ingest at a fixed rate for a fixed duration. It samples the
/// service's resident set size (RSS), its managed heap and the batch watermark to a CSV file, and
/// reports memory before, during and after each hourly batch that ran in the service.
/// </summary>
/// <remarks>
/// The service runs its hourly batch on its own schedule (minute 0 of every hour, UTC, in the
/// shipped configuration), so a run shows a batch only when it crosses the top of an hour.
/// </remarks>
internal static class SoakHarness
{
    private const string CsvHeader = "utc,seconds,rss_mib,managed_heap_mib,heap_after_gc_mib,gc_committed_mib,gen2_collections,watermark,speed_hours,stored_events,load_1m";

    public static async Task<int> RunAsync(Options options)
    {
        var seconds = options.PositiveLong("seconds", 600);
        var rate = options.NonNegativeLong("rate", 10_000);
        var sampleSeconds = options.PositiveLong("sample-seconds", 10);
        var warmupSeconds = options.PositiveLong("warmup-seconds", 60);
        var maxRssMib = options.PositiveLong("max-rss-mib", 12_288);
        var workDirectory = RepositoryPaths.CreateWorkDirectory("lambdastats-soak", options.OptionalString("work-dir"));
        var webDll = RepositoryPaths.FindWebDll(options.OptionalString("web-dll"));
        var csvPath = Path.GetFullPath(options.String("csv", Path.Combine(workDirectory, "soak.csv")));
        Directory.CreateDirectory(Path.GetDirectoryName(csvPath)!);
        Console.WriteLine($"# work directory: {workDirectory}");
        Console.WriteLine($"# samples: {csvPath}");

        var samples = new List<SoakSample>();
        LoadSummary? summary = null;
        var service = await ServiceProcess.StartAsync(webDll, workDirectory, TimeSpan.FromSeconds(60));
        await using (service)
        {
            var load = LoadGeneratorProcess.Start(service.BaseAddress,
                ["--events", (rate * seconds).ToString(CultureInfo.InvariantCulture), "--seconds", seconds.ToString(CultureInfo.InvariantCulture),
                 "--rate", rate.ToString(CultureInfo.InvariantCulture), "--concurrency", options.String("concurrency", "2"),
                 "--hubs", options.String("hubs", "100"), "--media", options.String("media", "10000"), "--visitors", options.String("visitors", "1000000"),
                 "--run-id", "soak0000"]);
            using var client = new HttpClient { BaseAddress = service.BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
            var clock = Stopwatch.StartNew();
            var stoppedEarly = false;
            await using (var csv = new StreamWriter(csvPath))
            {
                await csv.WriteLineAsync(CsvHeader);
                for (var next = 0L; !load.HasExited; next += sampleSeconds)
                {
                    // Samples at fixed offsets from the start, so a slow status request does not
                    // shift the later ones.
                    var wait = TimeSpan.FromSeconds(next) - clock.Elapsed;
                    if (wait > TimeSpan.Zero)
                    {
                        await Task.Delay(wait);
                    }

                    var sample = await SoakSample.TakeAsync(service, client, clock.Elapsed.TotalSeconds);
                    samples.Add(sample);
                    await csv.WriteLineAsync(sample.ToCsv());
                    await csv.FlushAsync();

                    // The machine is shared, so a service that grows past the limit ends the run
                    // before it takes the memory of other processes.
                    if (sample.RssBytes > maxRssMib * 1024 * 1024)
                    {
                        Console.WriteLine(FormattableString.Invariant($"RSS {sample.RssBytes / 1024 / 1024} MiB is above --max-rss-mib {maxRssMib} at {sample.Seconds:F0} s; stopping the load"));
                        await load.KillAsync();
                        stoppedEarly = true;
                        break;
                    }
                }
            }

            if (!stoppedEarly)
            {
                summary = await load.WaitAsync();
            }
        }

        if (summary is not null)
        {
            Console.WriteLine(FormattableString.Invariant(
                $"load: sent {summary.Sent:N0}, accepted {summary.Accepted:N0} in {summary.Seconds:F0} s ({summary.AcceptedPerSecond:N0} events/s, target rate {rate:N0}), duplicates {summary.Duplicates:N0}, rejected {summary.Rejected:N0}, errors {summary.Errors}"));
            if (summary.FirstError is not null)
            {
                Console.WriteLine($"first error: {summary.FirstError}");
            }
        }

        var batches = BatchRun.ReadLog(service.LogPath);
        SoakReport.Print(samples, batches, warmupSeconds);

        var stored = EventDatabase.CountEvents(service.DataDirectory);
        var accepted = summary is null ? "unknown, the load generator was stopped" : summary.Accepted.ToString("N0", CultureInfo.InvariantCulture);
        Console.WriteLine(FormattableString.Invariant($"events.db holds {stored:N0} rows after shutdown, accepted {accepted}: {(stored == summary?.Accepted ? "equal" : "DIFFERENT")}"));
        if (!options.Flag("keep"))
        {
            Directory.Delete(workDirectory, recursive: true);
        }

        return summary is not null && summary.Errors == 0 && stored == summary.Accepted ? 0 : 1;
    }
}

/// <summary>One sample of a soak run: RSS from /proc, the status endpoint's figures, and the load average.</summary>
internal sealed record SoakSample(DateTimeOffset Utc, double Seconds, long? RssBytes, ServiceStatus? Status, double? LoadAverage1Minute)
{
    public static async Task<SoakSample> TakeAsync(ServiceProcess service, HttpClient client, double seconds)
    {
        var utc = DateTimeOffset.UtcNow;
        var rss = service.ReadRss();
        var status = await ServiceStatus.TryReadAsync(client, CancellationToken.None);
        return new SoakSample(utc, seconds, rss, status, ReadLoadAverage1Minute());
    }

    public string ToCsv() => string.Join(',',
        Utc.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
        Seconds.ToString("F0", CultureInfo.InvariantCulture),
        Mib(RssBytes),
        Mib(Status?.ManagedHeapBytes),
        Mib(Status?.HeapAfterLastGcBytes),
        Mib(Status?.CommittedBytes),
        Status?.Gen2Collections.ToString(CultureInfo.InvariantCulture) ?? string.Empty,
        Status?.Watermark?.ToString("yyyy-MM-dd'T'HH:mm'Z'", CultureInfo.InvariantCulture) ?? string.Empty,
        Status is null ? string.Empty : string.Join(' ', Status.SpeedHours.Select(h => h.ToString("HH:mm", CultureInfo.InvariantCulture))),
        Status?.StoredEvents.ToString(CultureInfo.InvariantCulture) ?? string.Empty,
        LoadAverage1Minute?.ToString("F2", CultureInfo.InvariantCulture) ?? string.Empty);

    private static string Mib(long? bytes) => bytes is { } value ? (value / 1024.0 / 1024.0).ToString("F1", CultureInfo.InvariantCulture) : string.Empty;

    private static double? ReadLoadAverage1Minute()
    {
        const string path = "/proc/loadavg";
        return File.Exists(path) ? double.Parse(File.ReadAllText(path).Split(' ')[0], CultureInfo.InvariantCulture) : null;
    }
}
