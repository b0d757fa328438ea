using BenchmarkDotNet.Attributes;
using LambdaStats.Benchmarks.Support;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.Speed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using System.Diagnostics.Metrics;

namespace LambdaStats.Benchmarks;

/// <summary>
/// <see cref="SpeedLayer.Add"/> with the shipped catalogue: the call ingestion makes after each
/// append, which routes a batch of mixed types to the buffers of each type. Per event, warm keys.
/// </summary>
[MemoryDiagnoser]
public class SpeedLayerBenchmarks
{
    private const int EventsPerBatch = 1_000;

    private SpeedLayer speed = null!;
    private List<LambdaEvent> events = null!;

    [GlobalSetup]
    public void Setup()
    {
        var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var divergences = new DivergenceCheck(services.GetRequiredService<IMeterFactory>(), NullLogger<DivergenceCheck>.Instance);
        speed = new SpeedLayer(ModuleHost.ShippedCatalog(), divergences);
        var random = new Random(11);
        var hour = new DateTimeOffset(2026, 1, 10, 9, 0, 0, TimeSpan.Zero);
        var media = Enumerable.Range(0, 1_000).Select(i => $"media-{i:D6}").ToArray();
        events = Enumerable.Range(0, EventsPerBatch)
            .Select(i => EventFactory.Create($"event-{i}", EventFactory.PickType(random), hour.AddSeconds(random.Next(3600)), "hub-0001", media[random.Next(media.Length)], random))
            .ToList();
        speed.Add(events);
    }

    [Benchmark(OperationsPerInvoke = EventsPerBatch, Description = "SpeedLayer.Add (mixed types), per event")]
    public void SpeedLayerAdd() => speed.Add(events);
}
