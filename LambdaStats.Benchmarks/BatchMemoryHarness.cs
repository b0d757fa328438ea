using System.Diagnostics;
using LambdaStats.Benchmarks.Support;
using LambdaStats.Modules.Batch.Contracts;
using LambdaStats.Modules.Common;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.Speed;
using Mediator;

namespace LambdaStats.Benchmarks;

/// <summary>
/// <c>batch-memory</c>: the process memory of one hourly batch run over an hour shaped like the
/// soak's, while the speed layer buffers that hour as it does in the service.
/// </summary>
/// <remarks>
/// The events go through <see cref="IEventIngestor.IngestValidatedAsync"/>, so the speed layer
/// buffers them as in the service. Each event draws its type from the ingest mix, its hub from
/// <c>--hubs</c>, its media from <c>--media</c> independently of the hub, its page from 1 to 40 and
/// its visitor from <c>--visitors</c>. A thread samples the resident set size (VmRSS of
/// /proc/self/status) and the managed heap (<see cref="GC.GetTotalMemory"/> without a collection)
/// every <c>--sample-ms</c> during the run, then for <c>--after-seconds</c> while the process idles.
/// With <c>--live-rate N</c>, events of the next hour then arrive at N per second, as in the soak:
/// for <c>--settle-seconds</c> before the batch, so that the GC adapts to that rate, and during it.
/// </remarks>
internal static class BatchMemoryHarness
{
    private const double MiB = 1024 * 1024;

    public static async Task<int> RunAsync(Options options)
    {
        var events = options.PositiveInt("events", 5_000_000);
        var hubs = options.PositiveInt("hubs", 100);
        var media = options.PositiveInt("media", 10_000);
        var visitors = options.PositiveInt("visitors", 1_000_000);
        var sampleMilliseconds = options.PositiveInt("sample-ms", 20);
        var afterSeconds = options.NonNegativeInt("after-seconds", 30);
        var liveRate = options.NonNegativeInt("live-rate", 0);
        var settleSeconds = options.NonNegativeInt("settle-seconds", 60);
        if (liveRate == 0 && options.OptionalString("settle-seconds") is not null)
        {
            throw new ArgumentException("Option --settle-seconds needs a --live-rate above 0: without live events there is nothing to settle.");
        }

        var directory = RepositoryPaths.CreateWorkDirectory("lambdastats-batch-memory", options.OptionalString("work-dir"));
        try
        {
            var hour = UtcHour.Containing(DateTimeOffset.UtcNow).AddHours(-2);
            var clock = new ManualClock(hour.Start.AddSeconds(1));
            await using var host = new ModuleHost(directory, clock, logBatchRuns: true, settings: BatchSettings(options));
            var mediator = host.Get<IMediator>();
            await mediator.Send(new RunHourlyBatch());

            var ingestClock = Stopwatch.StartNew();
            await IngestHourAsync(host.Get<IEventIngestor>(), hour, events, hubs, media, visitors);
            ingestClock.Stop();
            Console.WriteLine(FormattableString.Invariant($"ingested {events:N0} events of one hour into the store and the speed layer in {ingestClock.Elapsed.TotalSeconds:F1} s"));

            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            var before = MemorySample.Take(TimeSpan.Zero);
            Console.WriteLine(FormattableString.Invariant($"before the batch, after a full collection: {before.Describe()}"));

            clock.Now = hour.End.AddMinutes(1);
            using var live = new CancellationTokenSource();
            var liveIngestion = Task.FromResult(0L);
            var liveClock = Stopwatch.StartNew();
            if (liveRate > 0)
            {
                liveIngestion = Task.Run(() => IngestLiveAsync(host.Get<IEventIngestor>(), hour.AddHours(1), liveRate, hubs, media, visitors, live.Token));
                await Task.Delay(TimeSpan.FromSeconds(settleSeconds));
                before = MemorySample.Take(TimeSpan.Zero);
                Console.WriteLine(FormattableString.Invariant($"after {settleSeconds} s of live events at {liveRate:N0} per second requested, without a full collection: {before.Describe()}"));
            }

            using var sampler = new MemorySampler(TimeSpan.FromMilliseconds(sampleMilliseconds), options.OptionalString("trace"));
            var batchClock = Stopwatch.StartNew();
            var summary = await mediator.Send(new RunHourlyBatch());
            batchClock.Stop();
            var peak = sampler.StopAndReadPeak();
            await live.CancelAsync();
            var liveEvents = await liveIngestion;
            liveClock.Stop();

            var failed = summary.Aggregations.Where(a => a.Error is not null).ToList();
            if (failed.Count > 0)
            {
                Console.WriteLine($"failed aggregations: {string.Join("; ", failed.Select(f => $"{f.Aggregation}: {f.Error}"))}");
                return 1;
            }

            Console.WriteLine(FormattableString.Invariant($"hourly batch over {events:N0} events: {batchClock.Elapsed.TotalSeconds:F2} s, {peak.Samples} samples"));
            Console.WriteLine(FormattableString.Invariant($"peak during the run, and its rise over the last sample before the batch: RSS {peak.MaxRss / MiB:F0} MiB (+{(peak.MaxRss - before.Rss) / MiB:F0}), RSS without mapped files {peak.MaxAnonymous / MiB:F0} MiB (+{(peak.MaxAnonymous - before.Anonymous) / MiB:F0}), managed heap {peak.MaxHeap / MiB:F0} MiB (+{(peak.MaxHeap - before.Heap) / MiB:F0}), GC committed {peak.MaxCommitted / MiB:F0} MiB (+{(peak.MaxCommitted - before.Committed) / MiB:F0})"));
            if (liveRate > 0)
            {
                var reached = liveEvents / liveClock.Elapsed.TotalSeconds;
                Console.WriteLine(FormattableString.Invariant($"live events ingested from the start of the settling to the end of the batch: {liveEvents:N0} in {liveClock.Elapsed.TotalSeconds:F1} s, {reached:N0} per second"));
                if (reached < liveRate * 0.95)
                {
                    Console.WriteLine(FormattableString.Invariant($"warning: the live events fell behind the requested {liveRate:N0} per second, so the figures above are for a lighter load"));
                }
            }

            var afterClock = Stopwatch.StartNew();
            foreach (var seconds in new[] { 0, 1, 2, 5, 10, 20, 30, 60, 120 }.Where(s => s <= afterSeconds))
            {
                var wait = TimeSpan.FromSeconds(seconds) - afterClock.Elapsed;
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait);
                }

                Console.WriteLine(FormattableString.Invariant($"after the batch, {seconds,3} s: {MemorySample.Take(afterClock.Elapsed).Describe()}"));
            }

            var speed = host.Get<SpeedLayer>();
            var heldHours = speed.Buffers.Sum(buffer => buffer.GetHeldHours().Count);
            var pooledStrings = speed.Buffers.Sum(buffer => buffer.PooledStringCount);
            Console.WriteLine(FormattableString.Invariant($"speed layer after the batch: {heldHours} hours held over all aggregations, {pooledStrings:N0} pooled strings, {speed.DivergenceCount} divergent keys"));
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            Console.WriteLine(FormattableString.Invariant($"live after a full collection at the end: {MemorySample.Take(afterClock.Elapsed).Describe()}"));
        }
        finally
        {
            if (!options.Flag("keep"))
            {
                Directory.Delete(directory, recursive: true);
            }
        }

        return 0;
    }

    /// <summary>The batch settings that the options <c>--read-hour-per-event-type</c> and <c>--compact-heap-above-megabytes</c> set.</summary>
    public static Dictionary<string, string?> BatchSettings(Options options)
    {
        var settings = new Dictionary<string, string?>();
        if (options.Flag("read-hour-per-event-type"))
        {
            settings["Batch:ReadHourPerEventType"] = "true";
        }

        if (options.OptionalString("compact-heap-above-megabytes") is { } megabytes)
        {
            settings["Batch:CompactHeapAboveMegabytes"] = megabytes;
        }

        if (options.OptionalString("events-per-hub-slice") is { } eventsPerSlice)
        {
            settings["Batch:EventsPerHubSlice"] = eventsPerSlice;
        }

        return settings;
    }

    private static async Task IngestHourAsync(IEventIngestor ingestor, UtcHour hour, int count, int hubs, int media, int visitors)
    {
        var random = new Random(1);
        var chunk = new List<LambdaEvent>(10_000);
        for (var i = 0; i < count; i++)
        {
            // Events arrive in time order within the hour, as live ingestion stores them.
            var occurredAt = hour.Start.AddTicks(TimeSpan.TicksPerHour / count * i);
            var hub = $"hub-{random.Next(hubs):D4}";
            var medium = $"media-{random.Next(media):D6}";
            var visitor = $"visitor-{random.Next(visitors):D7}";
            chunk.Add(EventFactory.Create($"memory-{i:D9}", EventFactory.PickType(random), occurredAt, hub, medium, random, visitor));
            if (chunk.Count == chunk.Capacity)
            {
                await ingestor.IngestValidatedAsync(chunk, CancellationToken.None);
                chunk = new List<LambdaEvent>(10_000);
            }
        }

        if (chunk.Count > 0)
        {
            await ingestor.IngestValidatedAsync(chunk, CancellationToken.None);
        }
    }

    /// <summary>
    /// Ingests events of <paramref name="hour"/> at <paramref name="rate"/> per second, a tenth of
    /// a second's worth at a time, until cancelled, and returns how many it ingested.
    /// </summary>
    private static async Task<long> IngestLiveAsync(IEventIngestor ingestor, UtcHour hour, int rate, int hubs, int media, int visitors, CancellationToken cancellationToken)
    {
        var random = new Random(2);
        var perTick = Math.Max(1, rate / 10);
        var started = Stopwatch.StartNew();
        long sent = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            var chunk = new List<LambdaEvent>(perTick);
            for (var i = 0; i < perTick; i++, sent++)
            {
                var occurredAt = hour.Start.AddMilliseconds(sent * 1000.0 / rate % TimeSpan.FromHours(1).TotalMilliseconds);
                chunk.Add(EventFactory.Create($"live-{sent:D9}", EventFactory.PickType(random), occurredAt, $"hub-{random.Next(hubs):D4}", $"media-{random.Next(media):D6}", random, $"visitor-{random.Next(visitors):D7}"));
            }

            await ingestor.IngestValidatedAsync(chunk, CancellationToken.None);
            var due = TimeSpan.FromSeconds(sent / (double)rate) - started.Elapsed;
            if (due > TimeSpan.Zero)
            {
                await Task.Delay(due, CancellationToken.None);
            }
        }

        return sent;
    }

    private readonly record struct MemorySample(TimeSpan At, long Rss, long Anonymous, long Heap, long Committed)
    {
        public static MemorySample Take(TimeSpan at)
        {
            var rss = ProcessMemory.ReadRss(Environment.ProcessId) ?? 0;
            return new(at, rss, rss - (ProcessMemory.ReadRssFile(Environment.ProcessId) ?? 0), GC.GetTotalMemory(false), GC.GetGCMemoryInfo().TotalCommittedBytes);
        }

        public string Describe() => FormattableString.Invariant(
            $"RSS {Rss / MiB:F0} MiB ({Anonymous / MiB:F0} without mapped files), managed heap {Heap / MiB:F0} MiB, committed after the last collection {Committed / MiB:F0} MiB, gen 2 collections {GC.CollectionCount(2)}");
    }

    /// <summary>
    /// Samples RSS and the managed heap on its own thread and keeps the maximum of each. With a
    /// trace path, it also writes every sample there as CSV, with its UTC time, to match the log lines.
    /// </summary>
    private sealed class MemorySampler : IDisposable
    {
        private readonly TimeSpan interval;
        private readonly Thread thread;
        private readonly StreamWriter? trace;
        private volatile bool stopping;
        private long maxRss;
        private long maxAnonymous;
        private long maxHeap;
        private long maxCommitted;
        private int samples;

        public MemorySampler(TimeSpan interval, string? tracePath)
        {
            this.interval = interval;
            if (tracePath is not null)
            {
                trace = new StreamWriter(tracePath);
                trace.WriteLine("utc,rss_mib,rss_without_files_mib,heap_mib,heap_after_last_gc_mib,committed_mib");
            }

            thread = new Thread(Sample) { IsBackground = true, Name = "batch-memory sampler" };
            thread.Start();
        }

        public (long MaxRss, long MaxAnonymous, long MaxHeap, long MaxCommitted, int Samples) StopAndReadPeak()
        {
            Dispose();
            return (maxRss, maxAnonymous, maxHeap, maxCommitted, samples);
        }

        public void Dispose()
        {
            stopping = true;
            thread.Join();
            trace?.Dispose();
        }

        private void Sample()
        {
            while (true)
            {
                var sample = MemorySample.Take(TimeSpan.Zero);
                maxRss = Math.Max(maxRss, sample.Rss);
                maxAnonymous = Math.Max(maxAnonymous, sample.Anonymous);
                maxHeap = Math.Max(maxHeap, sample.Heap);
                maxCommitted = Math.Max(maxCommitted, sample.Committed);
                samples++;
                if (trace is not null)
                {
                    var info = GC.GetGCMemoryInfo();
                    trace.WriteLine(FormattableString.Invariant($"{DateTime.UtcNow:HH:mm:ss.fff},{sample.Rss / MiB:F0},{sample.Anonymous / MiB:F0},{sample.Heap / MiB:F0},{info.HeapSizeBytes / MiB:F0},{sample.Committed / MiB:F0}"));
                }
                if (stopping)
                {
                    return;
                }

                Thread.Sleep(interval);
            }
        }
    }
}
