using System.Diagnostics;
using LambdaStats.Benchmarks.Support;
using LambdaStats.Modules.Batch.Contracts;
using LambdaStats.Modules.Common;
using LambdaStats.Modules.Events.Contracts;
using Mediator;

namespace LambdaStats.Benchmarks;

/// <summary>
/// <c>batch</c>: duration of one hourly batch run that closes an hour holding N events (default
/// 1,000,000), on the SQLite stores, in the steady state where the previous run left the
/// watermark at the start of that hour.
/// </summary>
/// <remarks>
/// Each repetition uses a fresh data directory: a first run on the empty store sets the watermark,
/// the events are appended through <see cref="IEventStore.AppendAsync"/> in batches of 10,000, the
/// clock moves one minute past the hour, and the timed run computes and commits the hour for
/// every aggregation of the shipped catalogue.
/// </remarks>
internal static class BatchHarness
{
    public static async Task<int> RunAsync(Options options)
    {
        var events = options.PositiveInt("events", 1_000_000);
        var repeat = options.PositiveInt("repeat", 3);
        var hubs = options.PositiveInt("hubs", 100);
        var media = options.PositiveInt("media", 10_000);
        var singleType = options.OptionalString("type");
        var durations = new List<double>();

        for (var run = 1; run <= repeat; run++)
        {
            var directory = RepositoryPaths.CreateWorkDirectory("lambdastats-batch", options.OptionalString("work-dir"));
            try
            {
                var hour = UtcHour.Containing(DateTimeOffset.UtcNow).AddHours(-2);
                var clock = new ManualClock(hour.Start.AddSeconds(1));
                await using var host = new ModuleHost(directory, clock, settings: BatchMemoryHarness.BatchSettings(options));
                var mediator = host.Get<IMediator>();
                await mediator.Send(new RunHourlyBatch());

                var appendClock = Stopwatch.StartNew();
                await AppendHourAsync(host.Get<IEventStore>(), hour, events, hubs, media, singleType, run);
                appendClock.Stop();

                clock.Now = hour.End.AddMinutes(1);
                var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
                var pausedBefore = GC.GetTotalPauseDuration();
                var gen2Before = GC.CollectionCount(2);
                var processorBefore = Process.GetCurrentProcess().TotalProcessorTime;
                var batchClock = Stopwatch.StartNew();
                var summary = await mediator.Send(new RunHourlyBatch());
                batchClock.Stop();
                var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
                var paused = GC.GetTotalPauseDuration() - pausedBefore;
                var gen2 = GC.CollectionCount(2) - gen2Before;
                var processor = Process.GetCurrentProcess().TotalProcessorTime - processorBefore;

                var failed = summary.Aggregations.Where(a => a.Error is not null).ToList();
                if (failed.Count > 0)
                {
                    Console.WriteLine($"run {run}: failed aggregations: {string.Join("; ", failed.Select(f => $"{f.Aggregation}: {f.Error}"))}");
                    return 1;
                }

                durations.Add(batchClock.Elapsed.TotalSeconds);
                Console.WriteLine(FormattableString.Invariant(
                    $"run {run}: appended {events:N0} events in {appendClock.Elapsed.TotalSeconds:F1} s; hourly batch over them: {batchClock.Elapsed.TotalSeconds:F2} s, CPU time {processor.TotalSeconds:F2} s ({summary.Aggregations.Sum(a => a.BucketsWritten)} hourly views written), {allocated / (double)events:F0} B allocated per event, GC pauses {paused.TotalSeconds:F2} s, {gen2} gen 2 collections, managed heap after it {GC.GetTotalMemory(false) / 1048576.0:F0} MiB"));
                if (run == 1)
                {
                    Console.WriteLine($"  view rows written per aggregation: {CountViewRows(directory)}");
                    // Each read runs twice, alternating, so that neither gets a colder cache than the other.
                    for (var pass = 1; pass <= 2; pass++)
                    {
                        var scanClock = Stopwatch.StartNew();
                        var scanned = await ScanHourAsync(host.Get<IEventStore>(), hour);
                        Console.WriteLine(FormattableString.Invariant($"  pass {pass}: reading the hour's {scanned:N0} events back with IEventStore.ScanAsync, one type after the other: {scanClock.Elapsed.TotalSeconds:F2} s"));
                        scanClock.Restart();
                        scanned = await ScanHourAtOnceAsync(host.Get<IEventStore>(), hour);
                        Console.WriteLine(FormattableString.Invariant($"  pass {pass}: reading them with IEventStore.ScanHourAsync, every type at once, with the fields of the catalogue: {scanClock.Elapsed.TotalSeconds:F2} s"));
                    }
                }
            }
            finally
            {
                Directory.Delete(directory, recursive: true);
            }
        }

        Console.WriteLine(FormattableString.Invariant($"hourly batch over {events:N0} events in one hour: min {durations.Min():F2} s, median {durations.Order().ElementAt(durations.Count / 2):F2} s, max {durations.Max():F2} s"));
        return 0;
    }

    private static async Task<long> ScanHourAsync(IEventStore store, UtcHour hour)
    {
        var count = 0L;
        foreach (var type in Enum.GetValues<EventType>())
        {
            await foreach (var e in store.ScanAsync(type, hour.Start, hour.End, 0, long.MaxValue, CancellationToken.None))
            {
                count++;
            }
        }

        return count;
    }

    private static async Task<long> ScanHourAtOnceAsync(IEventStore store, UtcHour hour)
    {
        EventField[] fields = [EventField.HubId, EventField.MediaId, EventField.VisitorId, EventField.Page, EventField.DurationSeconds, EventField.Network, EventField.ContactKind];
        var count = 0L;
        await foreach (var e in store.ScanHourAsync(hour, Enum.GetValues<EventType>(), fields, long.MaxValue, CancellationToken.None))
        {
            count++;
        }

        return count;
    }

    private static string CountViewRows(string directory)
    {
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(directory, "views.db")};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT aggregation, SUM(key_count) FROM hourly_blocks GROUP BY aggregation ORDER BY 2 DESC;";
        using var reader = command.ExecuteReader();
        var counts = new List<string>();
        while (reader.Read())
        {
            counts.Add(FormattableString.Invariant($"{reader.GetString(0)} {reader.GetInt64(1):N0}"));
        }

        return string.Join(", ", counts);
    }

    private static async Task AppendHourAsync(IEventStore store, UtcHour hour, int count, int hubs, int media, string? singleType, int run)
    {
        var random = new Random(run);
        var type = singleType is null ? (EventType?)null : Enum.Parse<EventType>(singleType);
        var chunk = new List<LambdaEvent>(10_000);
        for (var i = 0; i < count; i++)
        {
            // Events arrive in time order within the hour, as live ingestion stores them.
            var occurredAt = hour.Start.AddTicks(TimeSpan.TicksPerHour / count * i);
            var hub = $"hub-{random.Next(hubs):D4}";
            var medium = $"media-{random.Next(media):D6}";
            chunk.Add(EventFactory.Create($"batch-{run}-{i:D9}", type ?? EventFactory.PickType(random), occurredAt, hub, medium, random));
            if (chunk.Count == chunk.Capacity)
            {
                await store.AppendAsync(chunk, CancellationToken.None);
                chunk.Clear();
            }
        }

        if (chunk.Count > 0)
        {
            await store.AppendAsync(chunk, CancellationToken.None);
        }
    }
}
