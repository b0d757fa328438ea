using LambdaStats.Benchmarks.Support;
using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Aggregation.Columns;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.Speed;

namespace LambdaStats.Benchmarks;

/// <summary>
/// <c>speed-memory</c>: managed memory that the speed layer keeps per live key and hour, measured
/// with <see cref="GC.GetTotalMemory(bool)"/> before and after filling N keys × H hours.
/// </summary>
/// <remarks>
/// Every event gets its own id, hub and media strings, as events parsed from separate requests
/// do, and the events are dropped after each hour, so the figure includes the key strings that
/// the buffer retains. The event count per key and hour, the pages per key and the number of
/// distinct visitor ids (none by default) are options.
/// <para>
/// <c>--pairs-in-memory N</c> gives the buffer a scratch directory (<c>--scratch-dir</c>, a new
/// temporary directory by default) and that budget, so its pair columns move to scratch files past
/// N pairs. <c>--per-round</c> prints, after each round of one event per key, the settled heap,
/// the heap added per event of the round, the process working set and the time per event of the
/// round's <see cref="SpeedBuffer.Add"/>. The heap includes each scratch file's 64 KiB write
/// buffer, and the working set also includes the pages of the files that reads map.
/// </para>
/// </remarks>
internal static class SpeedMemoryHarness
{
    public static int Run(Options options)
    {
        var keys = options.PositiveInt("keys", 10_000);
        var hours = options.PositiveInt("hours", 24);
        var eventsPerKeyHour = options.PositiveInt("events-per-key-hour", 3);
        var pages = options.PositiveInt("pages", 3);
        var visitors = options.NonNegativeInt("visitors", 0);
        var names = options.String("aggregations", "count,mediaConsultations,pageViews").Split(',');
        var pairsInMemory = options.NonNegativeInt("pairs-in-memory", 0);
        var perRound = options.Flag("per-round");
        var scratchDirectory = options.String("scratch-dir", Path.Combine(Path.GetTempPath(), $"speed-memory-scratch-{Environment.ProcessId}"));
        var scratch = pairsInMemory > 0 ? new PairScratch(scratchDirectory, pairsInMemory) : null;
        if (scratch is not null)
        {
            Console.WriteLine($"pairs in memory per output and hour: {pairsInMemory:N0}, scratch files in {scratch.Directory}");
        }

        Console.WriteLine($"keys: {keys:N0}, hours: {hours}, events per key and hour: {eventsPerKeyHour}, distinct pages per key and hour: {pages}, visitors: {(visitors > 0 ? visitors.ToString("N0", System.Globalization.CultureInfo.InvariantCulture) : "none")}");
        foreach (var name in names)
        {
            var definition = SpeedAggregationBenchmarks.CreateDefinition(name);
            var bytes = Measure(definition, keys, hours, eventsPerKeyHour, pages, visitors, scratch, perRound);
            scratch?.DeleteFiles();
            Console.WriteLine(FormattableString.Invariant(
                $"{name,-20} {bytes / (double)(keys * hours),8:F1} bytes per key and hour ({bytes / 1024.0 / 1024.0:F1} MiB for {keys * (long)hours:N0} key-hours)"));
        }

        return 0;
    }

    /// <param name="visitors">Size of the pool that visitor ids are drawn from; 0 leaves events without a visitor id.</param>
    /// <param name="scratch">Where the buffer's pair columns spill. Null keeps them in memory.</param>
    /// <param name="perRound">Whether to print the heap and the time per event after each round of one event per key.</param>
    private static long Measure(AggregationDefinition definition, int keys, int hours, int eventsPerKeyHour, int pages, int visitors, PairScratch? scratch, bool perRound)
    {
        var first = new DateTimeOffset(2026, 1, 10, 0, 0, 0, TimeSpan.Zero);
        var before = SettledMemory();
        var previous = before;
        var buffer = new SpeedBuffer(definition, scratch: scratch);
        var clock = new System.Diagnostics.Stopwatch();
        for (var hour = 0; hour < hours; hour++)
        {
            var start = first.AddHours(hour);
            for (var repeat = 0; repeat < eventsPerKeyHour; repeat++)
            {
                var batch = new List<LambdaEvent>(keys);
                for (var key = 0; key < keys; key++)
                {
                    batch.Add(new LambdaEvent
                    {
                        // Fresh strings per event, as the JSON parser produces them.
                        Id = string.Concat("event-", hour.ToString(System.Globalization.CultureInfo.InvariantCulture), "-", repeat.ToString(System.Globalization.CultureInfo.InvariantCulture), "-", key.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                        Type = definition.EventType,
                        OccurredAt = start.AddSeconds((key + repeat * 7) % 3600),
                        HubId = string.Concat("hub-", (key % 10).ToString("D4", System.Globalization.CultureInfo.InvariantCulture)),
                        MediaId = string.Concat("media-", key.ToString("D6", System.Globalization.CultureInfo.InvariantCulture)),
                        Page = 1 + (repeat % pages),
                        DurationSeconds = 10 + repeat,
                        VisitorId = visitors > 0 ? string.Concat("visitor-", ((key * 7 + repeat * 7919 + hour * 13) % visitors).ToString("D6", System.Globalization.CultureInfo.InvariantCulture)) : null,
                    });
                }

                clock.Restart();
                buffer.Add(batch);
                clock.Stop();
                if (perRound)
                {
                    var settled = SettledMemory();
                    Console.WriteLine(FormattableString.Invariant(
                        $"  hour {hour} round {repeat + 1}: heap {(settled - before) / 1024.0 / 1024.0,8:F1} MiB, {(settled - previous) / (double)keys,7:F1} B per event of the round, working set {Environment.WorkingSet / 1024.0 / 1024.0,8:F1} MiB, {clock.Elapsed.TotalNanoseconds / keys,7:F0} ns per event"));
                    previous = settled;
                }
            }
        }

        if (perRound)
        {
            PrintSnapshotTime(buffer, first, hours);
        }

        var after = SettledMemory();
        GC.KeepAlive(buffer);
        return after - before;
    }

    /// <summary>Prints the time that <see cref="SpeedBuffer.TakeSnapshot"/> takes, under the buffer's lock, to copy the rows of one hub.</summary>
    private static void PrintSnapshotTime(SpeedBuffer buffer, DateTimeOffset first, int hours)
    {
        var from = Modules.Common.UtcHour.Containing(first);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var snapshot = buffer.TakeSnapshot(new KeyFilter("hub-0000"), from, from.AddHours(hours));
        clock.Stop();
        Console.WriteLine(FormattableString.Invariant(
            $"  snapshot of hub-0000: {snapshot.Rows.Count:N0} rows in {clock.Elapsed.TotalMilliseconds:F1} ms ({clock.Elapsed.TotalNanoseconds / Math.Max(1, snapshot.Rows.Count):F0} ns per row)"));
    }

    private static long SettledMemory()
    {
        for (var i = 0; i < 3; i++)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }

        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
