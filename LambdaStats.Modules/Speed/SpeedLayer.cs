using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Aggregation.Columns;
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

    /// <param name="scratch">Where the buffers move pairs past their budget. Null keeps every pair in memory.</param>
    public SpeedLayer(AggregationCatalog catalog, DivergenceCheck divergenceCheck, PairScratch? scratch = null)
    {
        Divergences = divergenceCheck;
        buffers = catalog.All.ToDictionary(definition => definition.Name, definition => new SpeedBuffer(definition, divergenceCheck, scratch), StringComparer.Ordinal);
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

    public Exception? RebuildFailure { get; private set; }

    public void MarkRebuildFailed(Exception failure) => RebuildFailure = failure;

    public Task WhenReadyAsync(CancellationToken cancellationToken) => ready.Task.WaitAsync(cancellationToken);

    public SpeedBuffer Get(string aggregation) =>
        buffers.TryGetValue(aggregation, out var buffer)
            ? buffer
            : throw new KeyNotFoundException($"The speed layer has no buffer for aggregation '{aggregation}'.");

    /// <summary>Routes newly stored events to the buffers of the aggregations that consume their type.</summary>
    /// <remarks>
    /// Each buffer receives the whole batch and skips the events of other types, so routing
    /// allocates nothing. Buffers of types absent from the batch are not called.
    /// </remarks>
    public void Add(IReadOnlyList<LambdaEvent> events)
    {
        var types = TypesIn(events);
        foreach (var (type, targets) in buffersByType)
        {
            if ((types & TypeBit(type)) == 0)
            {
                continue;
            }

            foreach (var buffer in targets)
            {
                buffer.Add(events);
            }
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

    private static ulong TypesIn(IReadOnlyList<LambdaEvent> events)
    {
        var types = 0UL;
        for (var i = 0; i < events.Count; i++)
        {
            types |= TypeBit(events[i].Type);
        }

        return types;
    }

    /// <summary>The bit of <paramref name="type"/> in a set of types; every bit for a value out of the 64 a set can tell apart.</summary>
    private static ulong TypeBit(EventType type) => (int)type is >= 0 and < 64 ? 1UL << (int)type : ulong.MaxValue;
}
