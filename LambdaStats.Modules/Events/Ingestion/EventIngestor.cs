using System.Text.Json;
using LambdaStats.Modules.Events.Contracts;
using Mediator;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LambdaStats.Modules.Events.Ingestion;

internal sealed partial class EventIngestor(
    IEventStore store,
    IngestionGate gate,
    IPublisher publisher,
    TimeProvider clock,
    IOptions<IngestionOptions> options,
    ILogger<EventIngestor> logger) : IEventIngestor
{
    private readonly EventParser parser = new(options.Value);

    public async Task<IngestionResult> IngestAsync(IReadOnlyList<JsonElement> events, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var valid = new List<LambdaEvent>(events.Count);
        var rejected = new List<RejectedEvent>();
        for (var index = 0; index < events.Count; index++)
        {
            var outcome = parser.Parse(events[index], now);
            if (outcome.Event is { } parsed)
            {
                valid.Add(parsed);
            }
            else
            {
                rejected.Add(new RejectedEvent(index, outcome.Id, outcome.Error!));
            }
        }

        if (rejected.Count > 0)
        {
            Log.EventsRejected(logger, rejected.Count, events.Count, rejected[0].Id, rejected[0].Error);
        }

        var stored = await StoreAsync(valid, cancellationToken).ConfigureAwait(false);
        return new IngestionResult(stored.Stored.Count, stored.Duplicates, rejected);
    }

    public async Task<IngestionResult> IngestValidatedAsync(IReadOnlyList<LambdaEvent> events, CancellationToken cancellationToken)
    {
        var stored = await StoreAsync(events, cancellationToken).ConfigureAwait(false);
        return new IngestionResult(stored.Stored.Count, stored.Duplicates, []);
    }

    private async Task<AppendResult> StoreAsync(IReadOnlyList<LambdaEvent> events, CancellationToken cancellationToken)
    {
        if (events.Count == 0)
        {
            return new AppendResult([], 0);
        }

        // The speed layer must receive the new events before the gate opens again: the batch layer
        // seals the speed buffers under the same gate and relies on that order.
        using (await gate.EnterAsync(cancellationToken).ConfigureAwait(false))
        {
            var result = await store.AppendAsync(events, CancellationToken.None).ConfigureAwait(false);
            if (result.Stored.Count > 0)
            {
                await publisher.Publish(new EventsStored(result.Stored), CancellationToken.None).ConfigureAwait(false);
            }

            Log.EventsStored(logger, result.Stored.Count, result.Duplicates);
            return result;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1001, Level = LogLevel.Debug, Message = "Stored {StoredCount} events, {DuplicateCount} duplicates ignored")]
        public static partial void EventsStored(ILogger logger, int storedCount, int duplicateCount);

        [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Rejected {RejectedCount} of {EventCount} events; first rejected id {EventId}: {Reason}")]
        public static partial void EventsRejected(ILogger logger, int rejectedCount, int eventCount, string? eventId, string reason);
    }
}
