using BenchmarkDotNet.Attributes;
using LambdaStats.Modules.Aggregation.Columns;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.Speed;

namespace LambdaStats.Benchmarks;

/// <summary>
/// <see cref="SpeedBuffer.Add"/> per event on warm pairs, with the pair columns in memory
/// (<see cref="PairsInMemory"/> 0) or in scratch files from the first pair (1).
/// </summary>
/// <remarks>
/// The batch has 10,000 events of one hub in one hour over 1,000 media, 40 pages and 2,000
/// visitors, all added once in the setup, so every pair exists. In the spilled case, each event
/// appends one record to the scratch file of each projectionAdd output (pageViews), and one to
/// that of mediaConsultations' exact distinctCount unless its cache of recent pairs has the pair.
/// Each file grows with every invocation. The cost of a new pair is in <c>bench speed-memory --per-round</c>.
/// </remarks>
[MemoryDiagnoser]
public class SpilledPairsBenchmarks
{
    private const int EventsPerBatch = 10_000;

    private SpeedBuffer buffer = null!;
    private LambdaEvent[] events = null!;
    private string scratchDirectory = null!;

    [Params("mediaConsultations", "pageViews")]
    public string Aggregation { get; set; } = "mediaConsultations";

    [Params(0, 1)]
    public int PairsInMemory { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var definition = SpeedAggregationBenchmarks.CreateDefinition(Aggregation);
        scratchDirectory = Path.Combine(Path.GetTempPath(), $"spilled-pairs-{Environment.ProcessId}-{Guid.NewGuid():N}");
        var scratch = PairsInMemory > 0 ? new PairScratch(scratchDirectory, PairsInMemory) : null;
        events = SpeedAggregationBenchmarks.CreateEvents(definition.EventType, visitors: 2_000);

        buffer = new SpeedBuffer(definition, scratch: scratch);
        buffer.Add(events);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        buffer.Reset(Modules.View.Contracts.BatchFrontier.Initial, []);
        if (Directory.Exists(scratchDirectory))
        {
            Directory.Delete(scratchDirectory, recursive: true);
        }
    }

    [Benchmark(OperationsPerInvoke = EventsPerBatch, Description = "SpeedBuffer.Add on warm pairs, per event")]
    public void SpeedBufferAdd() => buffer.Add(events);
}
