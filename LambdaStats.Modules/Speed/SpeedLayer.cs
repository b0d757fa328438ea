using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Common;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.Speed.Contracts;

namespace LambdaStats.Modules.Speed;

/// <summary>The speed buffers of every aggregation that the speed layer maintains.</summary>
internal sealed class SpeedLayer : ISpeedLayer
{
    private readonly Dictionary<string, SpeedBuffer> buffers;
    private readonly Dictionary<EventType, SpeedBuffer[]> buffersByType;
    private readonly TaskCompletionSource ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public SpeedLayer(AggregationCatalog catalog, DivergenceCheck divergenceCheck)
    {
        Divergences = divergenceCheck;
        buffers = catalog.All.ToDictionary(definition => definition.Name, definition => new SpeedBuffer(definition, divergenceCheck), StringComparer.Ordinal);
        buffersByType = buffers.Values
            .Where(buffer => buffer.Definition.SpeedLayer)
            .GroupBy(buffer => buffer.Definition.EventType)
            .ToDictionary(group => group.Key, group => group.ToArray());
    }

    public DivergenceCheck Divergences { get; }

    public long DivergenceCount => Divergences.Total;

    public bool IsReady => ready.Task.IsCompletedSuccessfully;

    public IEnumerable<SpeedBuffer> Buffers => buffers.Values;

    public void MarkReady() => ready.TrySetResult();

    public Task WhenReadyAsync(CancellationToken cancellationToken) => ready.Task.WaitAsync(cancellationToken);

    public SpeedBuffer Get(string aggregation) =>
        buffers.TryGetValue(aggregation, out var buffer)
            ? buffer
            : throw new KeyNotFoundException($"The speed layer has no buffer for aggregation '{aggregation}'.");

    /// <summary>Routes newly stored events to the buffers of the aggregations that consume their type.</summary>
    public void Add(IReadOnlyList<LambdaEvent> events)
    {
        if (events.Count == 1)
        {
            AddToBuffers(events[0].Type, events);
            return;
        }

        foreach (var group in events.GroupBy(e => e.Type))
        {
            AddToBuffers(group.Key, group.ToList());
        }
    }

    public SpeedSnapshot TakeSnapshot(AggregationDefinition aggregation, KeyFilter filter, UtcHour from, UtcHour to)
    {
        var snapshot = Get(aggregation.Name).TakeSnapshot(filter, from, to);
        return aggregation.SpeedLayer ? snapshot : snapshot with { Rows = [], HourBounds = new Dictionary<UtcHour, OccurrenceBounds>() };
    }

    public bool IsStillValid(SpeedSnapshot snapshot) => Get(snapshot.Aggregation).IsStillValid(snapshot);

    public Task WaitForRewriteAsync(string aggregation, CancellationToken cancellationToken) =>
        Get(aggregation).WaitForRewriteAsync(cancellationToken);

    public IReadOnlyList<UtcHour> GetHeldHours(string aggregation) => Get(aggregation).GetHeldHours();

    private void AddToBuffers(EventType type, IReadOnlyList<LambdaEvent> events)
    {
        if (buffersByType.TryGetValue(type, out var targets))
        {
            foreach (var buffer in targets)
            {
                buffer.Add(events);
            }
        }
    }
}
