using LambdaStats.Modules.Common;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.View.Contracts;
using Microsoft.Extensions.Logging;

namespace LambdaStats.Modules.Speed;

/// <summary>
/// Rebuilds every speed buffer from the event store: the events at or after the stored
/// watermark, and the late events after the stored sequence. Runs under the ingestion gate, so no
/// event is stored while it reads.
/// </summary>
internal sealed partial class SpeedRebuilder(
    SpeedLayer speed,
    IEventStore events,
    IViewStore views,
    IngestionGate gate,
    ILogger<SpeedRebuilder> logger)
{
    public async Task RebuildAsync(CancellationToken cancellationToken)
    {
        using (await gate.EnterAsync(cancellationToken).ConfigureAwait(false))
        {
            await RebuildHoldingGateAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Rebuilds while the caller holds the ingestion gate.</summary>
    public async Task RebuildHoldingGateAsync(CancellationToken cancellationToken)
    {
        var maxSequence = await events.GetMaxSequenceAsync(cancellationToken).ConfigureAwait(false);
        foreach (var buffer in speed.Buffers)
        {
            var definition = buffer.Definition;
            var frontier = await views.GetFrontierAsync(definition.ViewId, cancellationToken).ConfigureAwait(false);
            if (frontier.Sequence > maxSequence)
            {
                // The store is then not the one the views were built from (emptied, restored from
                // an older backup, or another database). Queries would count events that it no
                // longer has, and the batch would skip new events below the frontier's sequence.
                throw new InvalidOperationException(
                    $"The views of {definition.Name} include events up to sequence {frontier.Sequence}, but the event store holds sequences up to {maxSequence} only, "
                    + "so it is not the store that the views were built from (it was emptied, restored from an older backup, or is another database). "
                    + "Point Storage:Events and its settings to that store, or delete the views (views.db, or the Elasticsearch indices) so that the service builds them again from this store.");
            }

            var loaded = new List<LambdaEvent>();
            if (definition.SpeedLayer)
            {
                await foreach (var e in events.ScanAsync(definition.EventType, frontier.Watermark.Start, DateTimeOffset.MaxValue, 0, maxSequence, cancellationToken).ConfigureAwait(false))
                {
                    loaded.Add(e);
                }

                await foreach (var e in events.ScanAsync(definition.EventType, DateTimeOffset.MinValue, frontier.Watermark.Start, frontier.Sequence, maxSequence, cancellationToken).ConfigureAwait(false))
                {
                    loaded.Add(e);
                }
            }

            buffer.Reset(frontier, loaded);
            Log.BufferRebuilt(logger, definition.Name, loaded.Count, frontier.IsInitial ? null : frontier.Watermark.Start, frontier.Sequence);
        }

        speed.MarkReady();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Rebuilt speed buffers of {Aggregation} from {EventCount} stored events; watermark {Watermark}, sequence {Sequence}")]
        public static partial void BufferRebuilt(ILogger logger, string aggregation, int eventCount, DateTimeOffset? watermark, long sequence);
    }
}
