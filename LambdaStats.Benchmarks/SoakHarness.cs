using System.Diagnostics;
using System.Globalization;
using LambdaStats.Benchmarks.Support;

namespace LambdaStats.Benchmarks;

/// <summary>
/// <c>soak</c>: sustained HTTP ingest at a fixed rate for a fixed duration, sampling the service's
/// resident set size (RSS) to a CSV file, to show whether process memory stays flat.
/// </summary>
internal static class SoakHarness
{
    public static async Task<int> RunAsync(Options options)
    {
        var seconds = options.Long("seconds", 600);
        var rate = options.Long("rate", 50_000);
        var sampleSeconds = options.Long("sample-seconds", 10);
        var workDirectory = RepositoryPaths.CreateWorkDirectory("lambdastats-soak", options.OptionalString("work-dir"));
        var webDll = RepositoryPaths.FindWebDll(options.OptionalString("web-dll"));
        var csvPath = Path.GetFullPath(options.String("csv", Path.Combine(workDirectory, "rss.csv")));
        Console.WriteLine($"# work directory: {workDirectory}");
        Console.WriteLine($"# RSS samples: {csvPath}");

        var samples = new List<(double Seconds, long Rss)>();
        LoadSummary summary;
        var service = await ServiceProcess.StartAsync(webDll, workDirectory, TimeSpan.FromSeconds(60));
        await using (service)
        {
            var load = LoadGeneratorProcess.Start(service.BaseAddress,
                ["--events", (rate * seconds).ToString(CultureInfo.InvariantCulture), "--seconds", seconds.ToString(CultureInfo.InvariantCulture),
                 "--rate", rate.ToString(CultureInfo.InvariantCulture), "--concurrency", "2", "--run-id", "soak0000"]);
            var clock = Stopwatch.StartNew();
            await using (var csv = new StreamWriter(csvPath))
            {
                await csv.WriteLineAsync("seconds,rss_mib");
                while (!load.HasExited)
                {
                    if (service.ReadRss() is { } rss)
                    {
                        samples.Add((clock.Elapsed.TotalSeconds, rss));
                        await csv.WriteLineAsync(FormattableString.Invariant($"{clock.Elapsed.TotalSeconds:F0},{rss / 1024.0 / 1024.0:F1}"));
                        await csv.FlushAsync();
                    }

                    await Task.Delay(TimeSpan.FromSeconds(sampleSeconds));
                }
            }

            summary = await load.WaitAsync();
        }

        Console.WriteLine(FormattableString.Invariant(
            $"load: {summary.Accepted:N0} events accepted in {summary.Seconds:F0} s ({summary.AcceptedPerSecond:N0} events/s, target rate {rate:N0}), errors {summary.Errors}"));
        if (samples.Count >= 4)
        {
            var firstMinute = samples.Where(s => s.Seconds >= 60).Take(1).Select(s => s.Rss).DefaultIfEmpty(samples[0].Rss).First();
            var secondHalf = samples.Where(s => s.Seconds >= samples[^1].Seconds / 2).ToList();
            Console.WriteLine(FormattableString.Invariant(
                $"RSS: first sample {Mib(samples[0].Rss)} MiB, at 60 s {Mib(firstMinute)} MiB, last {Mib(samples[^1].Rss)} MiB, max {Mib(samples.Max(s => s.Rss))} MiB; second half min {Mib(secondHalf.Min(s => s.Rss))} MiB, max {Mib(secondHalf.Max(s => s.Rss))} MiB"));
        }

        var stored = EventDatabase.CountEvents(service.DataDirectory);
        Console.WriteLine(FormattableString.Invariant($"events.db holds {stored:N0} rows after shutdown"));
        if (!options.Flag("keep"))
        {
            Directory.Delete(workDirectory, recursive: true);
        }

        return summary.Errors == 0 ? 0 : 1;
    }

    private static string Mib(long bytes) => (bytes / 1024.0 / 1024.0).ToString("F0", CultureInfo.InvariantCulture);
}
