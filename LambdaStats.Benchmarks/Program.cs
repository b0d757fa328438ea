using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using LambdaStats.Benchmarks;
using LambdaStats.Benchmarks.Support;

const string Usage = """
    Usage: dotnet LambdaStats.Benchmarks.dll HARNESS [options]
    Build first: dotnet build -c Release LambdaStats.sln

    Harnesses:
      speed        BenchmarkDotNet: speed-layer aggregation per event on warm keys. Other arguments go to BenchmarkDotNet (--filter, --job).
      ingest       End-to-end HTTP batch ingest into the service on SQLite. --events (3000000) --seconds (60) --batch (1000) --concurrency (4)
      bus-ingest   Events sent to RabbitMQ, one per message, consumed by the service with Bus:Transport=RabbitMq. --rabbitmq (127.0.0.1:5672, user guest) --events (200000) --prefetch (256) --prefill (send while the service is stopped, then time the drain)
      freshness    Time from the ingest response to the event's visibility in a query. --probes (1000) --background-rate (50000 events/s)
      last-days    "Last 30 days" of one hub: view layer, SQLite events, DuckDB. --events (10000000) --media (10000) --days (30) --data-dir (new temp dir)
      ingest-stages Cost per event of each ingest stage, in process on one thread. --events (500000) --batch (1000)
      sqlite-insert What SQLite costs per inserted row, below the event store. --rows (200000)
      batch        One hourly batch over one hour of events. --events (1000000) --repeat (3); --read-hour-per-event-type, --compact-heap-above-megabytes N and --events-per-hub-slice N set those Batch settings
      batch-memory Peak RSS and managed heap of one hourly batch over an hour shaped like the soak's, with the speed layer buffering it, and the memory after it. --events (5000000) --hubs (100) --media (10000) --visitors (1000000) --sample-ms (20) --after-seconds (30) --trace PATH (every sample as CSV), --live-rate (default 0, off: events of the next hour per second before and during the batch, as in the soak) --settle-seconds (60: seconds of live events before the batch), and the Batch settings of batch
      speed-memory Managed bytes per live key and hour in the speed layer. --keys (10000) --hours (24) --visitors (0: no visitor ids) --pairs-in-memory (0: no scratch files) --scratch-dir (new temp dir) --per-round (heap and ns per event after each round of one event per key)
      soak         Sustained ingest; service RSS, managed heap and batch watermark sampled over time. --seconds (600) --rate (10000 events/s) --sample-seconds (10) --warmup-seconds (60) --max-rss-mib (12288, stops the load above it) --csv PATH
      loadgen      The load generator that ingest, freshness and soak start as a separate process. --url --events --seconds --rate --batch --concurrency; each event draws its hub, media, page and visitor from --hubs (100) --media (10000) --visitors (1000000)
    Every harness that starts the service accepts --web-dll PATH and --keep (keep the work directory).
    """;

if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
{
    Console.WriteLine(Usage);
    return args.Length == 0 ? 2 : 0;
}

var harness = args[0];
var rest = args[1..];
if (harness != "loadgen")
{
    MachineInfo.Print(string.Join(' ', args));
}

int exitCode;
try
{
    exitCode = await RunHarnessAsync(harness, rest);
}
catch (ArgumentException exception)
{
    // An invalid option: the message names it, so a stack trace adds nothing.
    Console.Error.WriteLine(exception.Message);
    return 2;
}
if (harness != "loadgen")
{
    MachineInfo.PrintLoadAverage("end");
}

return exitCode;

static async Task<int> RunHarnessAsync(string harness, string[] rest)
{
    switch (harness)
    {
        case "speed":
            // In-process: the generated benchmark project would inherit the repository's
            // Directory.Build.props, whose warnings-as-errors the generated code does not meet.
            var config = DefaultConfig.Instance.AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).AsDefault());
            var benchmarkArgs = rest.Contains("--filter") ? rest : [.. rest, "--filter", "*"];
            BenchmarkSwitcher.FromTypes([typeof(SpeedAggregationBenchmarks), typeof(SpeedLayerBenchmarks), typeof(SpilledPairsBenchmarks)]).Run(benchmarkArgs, config);
            return 0;
        case "ingest":
            return await IngestHarness.RunAsync(new Options(rest));
        case "bus-ingest":
            return await BusIngestHarness.RunAsync(new Options(rest));
        case "freshness":
            return await FreshnessHarness.RunAsync(new Options(rest));
        case "last-days":
            return await LastDaysHarness.RunAsync(new Options(rest));
        case "ingest-stages":
            return await IngestStagesHarness.RunAsync(new Options(rest));
        case "sqlite-insert":
            return await SqliteInsertHarness.RunAsync(new Options(rest));
        case "batch":
            return await BatchHarness.RunAsync(new Options(rest));
        case "batch-memory":
            return await BatchMemoryHarness.RunAsync(new Options(rest));
        case "speed-memory":
            return SpeedMemoryHarness.Run(new Options(rest));
        case "soak":
            return await SoakHarness.RunAsync(new Options(rest));
        case "loadgen":
            return await LoadGenerator.RunAsync(new Options(rest));
        default:
            Console.Error.WriteLine($"Unknown harness '{harness}'.");
            Console.Error.WriteLine(Usage);
            return 2;
    }
}
