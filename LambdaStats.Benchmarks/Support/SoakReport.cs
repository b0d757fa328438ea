using System.Globalization;

namespace LambdaStats.Benchmarks.Support;

/// <summary>
/// One hourly batch run, as the service logged it: when it started and completed (UTC), and the
/// log line of each aggregation it committed or failed, with its time.
/// </summary>
internal sealed record BatchRun(DateTimeOffset Started, DateTimeOffset? Completed, string? CompletedMessage, List<(DateTimeOffset Time, string Message)> Aggregations)
{
    private const string StartingText = "Hourly batch starting";
    private const string CompletedText = "Hourly batch completed";
    private const string AggregationText = "Batch of ";

    /// <summary>Reads the batch runs from a <c>service.log</c> written by <see cref="ServiceProcess"/>.</summary>
    public static IReadOnlyList<BatchRun> ReadLog(string path)
    {
        var runs = new List<BatchRun>();
        if (!File.Exists(path))
        {
            return runs;
        }

        foreach (var line in File.ReadLines(path))
        {
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            if (space < 0 || !DateTimeOffset.TryParseExact(line[..space], ServiceProcess.LogTimeFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
            {
                continue;
            }

            var message = line[(space + 1)..].Trim();
            if (message.StartsWith(StartingText, StringComparison.Ordinal))
            {
                runs.Add(new BatchRun(time, null, null, []));
            }
            else if (message.StartsWith(AggregationText, StringComparison.Ordinal) && runs.Count > 0 && runs[^1].Completed is null)
            {
                runs[^1].Aggregations.Add((time, message));
            }
            else if (message.StartsWith(CompletedText, StringComparison.Ordinal) && runs.Count > 0 && runs[^1].Completed is null)
            {
                runs[^1] = runs[^1] with { Completed = time, CompletedMessage = message };
            }
        }

        return runs;
    }
}

/// <summary>
/// Prints what a soak run showed: the batch runs, the watermark and speed-layer hours over time,
/// and RSS and managed heap per period (before, during and after each batch run).
/// </summary>
internal static class SoakReport
{
    public static void Print(IReadOnlyList<SoakSample> samples, IReadOnlyList<BatchRun> batches, long warmupSeconds)
    {
        if (samples.Count == 0)
        {
            Console.WriteLine("no samples were taken");
            return;
        }

        var first = samples[0].Utc;
        var last = samples[^1].Utc;
        foreach (var batch in batches)
        {
            var duration = batch.Completed is { } completed ? FormattableString.Invariant($"{(completed - batch.Started).TotalSeconds:F1} s") : "not completed";
            Console.WriteLine($"hourly batch: started {Time(batch.Started)}, completed {(batch.Completed is { } end ? Time(end) : "-")} ({duration}); {batch.CompletedMessage}");
            foreach (var (time, message) in batch.Aggregations)
            {
                Console.WriteLine($"  {Time(time)} {message}");
            }
        }

        if (batches.Count == 0)
        {
            Console.WriteLine($"hourly batch: no run logged between {Time(first)} and {Time(last)}");
        }

        PrintChanges(samples);

        Console.WriteLine("memory by period (MiB; slope by least squares, MiB per minute):");
        Console.WriteLine("  period | from | to | samples | RSS min / max / mean | RSS slope | managed heap min / max / mean | heap slope");
        var measured = samples.Where(s => s.Seconds >= warmupSeconds).ToList();
        PrintPeriod(FormattableString.Invariant($"whole run from {warmupSeconds} s"), measured);

        var from = warmupSeconds > 0 ? measured.FirstOrDefault()?.Utc ?? last : first;
        var index = 0;
        foreach (var batch in batches.Where(b => b.Started >= first && b.Started <= last))
        {
            index++;
            var end = batch.Completed ?? last;
            PrintPeriod($"before batch {index}", measured.Where(s => s.Utc >= from && s.Utc < batch.Started).ToList());
            PrintPeriod($"during batch {index}", samples.Where(s => s.Utc >= batch.Started && s.Utc <= end).ToList());
            from = end;
        }

        if (index > 0)
        {
            PrintPeriod($"after batch {index}", samples.Where(s => s.Utc > from).ToList());
        }
    }

    private static void PrintChanges(IReadOnlyList<SoakSample> samples)
    {
        string? watermark = null;
        string? hours = null;
        foreach (var sample in samples.Where(s => s.Status is not null))
        {
            var status = sample.Status!;
            var sampleWatermark = status.Watermark is { } value ? Time(value) : "none";
            var sampleHours = string.Join(' ', status.SpeedHours.Select(Time));
            if (sampleWatermark != watermark)
            {
                Console.WriteLine(FormattableString.Invariant($"watermark {sampleWatermark} from the sample at {Time(sample.Utc)} ({sample.Seconds:F0} s)"));
                watermark = sampleWatermark;
            }

            if (sampleHours != hours)
            {
                Console.WriteLine(FormattableString.Invariant($"speed layer holds [{sampleHours}] from the sample at {Time(sample.Utc)} ({sample.Seconds:F0} s)"));
                hours = sampleHours;
            }
        }

        var missing = samples.Count(s => s.Status is null);
        if (missing > 0)
        {
            Console.WriteLine($"status: {missing} of {samples.Count} requests failed or timed out (5 s)");
        }
    }

    private static void PrintPeriod(string name, IReadOnlyList<SoakSample> samples)
    {
        if (samples.Count == 0)
        {
            Console.WriteLine($"  {name} | - | - | 0 | - | - | - | -");
            return;
        }

        var rss = samples.Where(s => s.RssBytes is not null).Select(s => (s.Seconds, Mib: s.RssBytes!.Value / 1024.0 / 1024.0)).ToList();
        var heap = samples.Where(s => s.Status is not null).Select(s => (s.Seconds, Mib: s.Status!.ManagedHeapBytes / 1024.0 / 1024.0)).ToList();
        Console.WriteLine(FormattableString.Invariant(
            $"  {name} | {Time(samples[0].Utc)} | {Time(samples[^1].Utc)} | {samples.Count} | {Range(rss)} | {Slope(rss)} | {Range(heap)} | {Slope(heap)}"));
    }

    private static string Range(List<(double Seconds, double Mib)> points) =>
        points.Count == 0 ? "-" : FormattableString.Invariant($"{points.Min(p => p.Mib):F0} / {points.Max(p => p.Mib):F0} / {points.Average(p => p.Mib):F1}");

    /// <summary>Least-squares slope of the points, in MiB per minute; "-" with fewer than 3 points.</summary>
    private static string Slope(List<(double Seconds, double Mib)> points)
    {
        if (points.Count < 3)
        {
            return "-";
        }

        var meanX = points.Average(p => p.Seconds / 60);
        var meanY = points.Average(p => p.Mib);
        var covariance = points.Sum(p => ((p.Seconds / 60) - meanX) * (p.Mib - meanY));
        var variance = points.Sum(p => ((p.Seconds / 60) - meanX) * ((p.Seconds / 60) - meanX));
        return variance == 0 ? "-" : (covariance / variance).ToString("+0.00;-0.00", CultureInfo.InvariantCulture);
    }

    private static string Time(DateTimeOffset time) => time.ToUniversalTime().ToString("HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
