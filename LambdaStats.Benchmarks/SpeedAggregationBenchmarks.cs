using BenchmarkDotNet.Attributes;
using LambdaStats.Benchmarks.Support;
using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.Speed;

namespace LambdaStats.Benchmarks;

/// <summary>
/// Speed-layer aggregation on warm keys: <see cref="SpeedBuffer.Add"/> (the call the speed layer
/// makes for each stored batch) and <see cref="AggregateRow.Add"/> alone, for one output of each
/// aggregator and for two aggregations of the shipped catalogue.
/// </summary>
/// <remarks>
/// The batch has 10,000 events of one hub in one hour over 1,000 media and 40 pages, all added
/// once in the setup, so every key, hour and page group already exists. Each result is per event.
/// </remarks>
[MemoryDiagnoser]
public class SpeedAggregationBenchmarks
{
    private const int EventsPerBatch = 10_000;

    private SpeedBuffer buffer = null!;
    private LambdaEvent[] events = null!;
    private AggregateRow[] rowPerEvent = null!;

    [Params("count", "add", "exists", "projectionAdd", "mediaConsultations", "pageViews")]
    public string Aggregation { get; set; } = "count";

    [GlobalSetup]
    public void Setup()
    {
        var definition = CreateDefinition(Aggregation);
        events = CreateEvents(definition.EventType);
        buffer = new SpeedBuffer(definition);
        buffer.Add(events);

        // One row per key, shared by the events of that key, as in the speed buffer.
        var rows = new Dictionary<AggregationKey, AggregateRow>();
        rowPerEvent = new AggregateRow[events.Length];
        for (var i = 0; i < events.Length; i++)
        {
            var key = definition.KeyOf(events[i]);
            if (!rows.TryGetValue(key, out var row))
            {
                row = definition.CreateRow();
                rows.Add(key, row);
            }

            row.Add(events[i]);
            rowPerEvent[i] = row;
        }
    }

    [Benchmark(OperationsPerInvoke = EventsPerBatch, Description = "SpeedBuffer.Add, per event")]
    public void SpeedBufferAdd() => buffer.Add(events);

    [Benchmark(OperationsPerInvoke = EventsPerBatch, Description = "AggregateRow.Add, per event")]
    public void AggregateRowAdd()
    {
        var localEvents = events;
        var localRows = rowPerEvent;
        for (var i = 0; i < localEvents.Length; i++)
        {
            localRows[i].Add(localEvents[i]);
        }
    }

    internal static AggregationDefinition CreateDefinition(string name)
    {
        EventField[] key = [EventField.HubId, EventField.MediaId];
        return name switch
        {
            "count" => new AggregationDefinition("count", EventType.PageViewed, key, [new OutputDefinition("views", AggregatorKind.Count)]),
            "add" => new AggregationDefinition("add", EventType.PageViewed, key, [new OutputDefinition("seconds", AggregatorKind.Add, EventField.DurationSeconds)]),
            "exists" => new AggregationDefinition("exists", EventType.PageViewed, key, [new OutputDefinition("viewed", AggregatorKind.Exists)]),
            "projectionAdd" => new AggregationDefinition("projectionAdd", EventType.PageViewed, key, [new OutputDefinition("secondsByPage", AggregatorKind.ProjectionAdd, EventField.DurationSeconds, EventField.Page)]),
            _ => ModuleHost.ShippedCatalog().Get(name),
        };
    }

    /// <param name="visitors">Number of visitor ids to draw from. 0 leaves the events without one.</param>
    internal static LambdaEvent[] CreateEvents(EventType type, int visitors = 0)
    {
        var random = new Random(7);

        // A random source of its own, so the other fields are the same with or without visitors.
        var visitorRandom = new Random(11);
        var hour = new DateTimeOffset(2026, 1, 10, 9, 0, 0, TimeSpan.Zero);
        var media = Enumerable.Range(0, 1_000).Select(i => $"media-{i:D6}").ToArray();
        var result = new LambdaEvent[EventsPerBatch];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = new LambdaEvent
            {
                Id = $"event-{i}",
                Type = type,
                OccurredAt = hour.AddSeconds(random.Next(3600)),
                HubId = "hub-0001",
                MediaId = media[random.Next(media.Length)],
                Page = 1 + random.Next(40),
                DurationSeconds = random.Next(1, 600),
                VisitorId = visitors > 0 ? $"visitor-{visitorRandom.Next(visitors):D6}" : null,
            };
        }

        return result;
    }
}
