using System.Text.Json;
using LambdaStats.Modules.Events.Contracts;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace LambdaStats.Modules.Events.Bus;

/// <summary>
/// Feeds the bodies of the plain JSON queue into the ingestion pipeline, parsed and validated as
/// <c>POST /api/events</c> parses and validates each event of its array, so a body gets the same
/// outcome and the same reason on the bus as over HTTP.
/// </summary>
internal sealed partial class AudienceEventJsonConsumer(BusEventBatcher batcher, ILogger<AudienceEventJsonConsumer> logger)
    : IConsumer<AudienceEventJson>
{
    public async Task Consume(ConsumeContext<AudienceEventJson> context)
    {
        var body = context.ReceiveContext.Body.GetBytes();
        EventMessageLimits.CheckBodySize(body.LongLength);
        JsonElement element;
        try
        {
            using var document = JsonDocument.Parse(body);
            element = document.RootElement.Clone();
        }
        catch (JsonException exception)
        {
            throw new EventRejectedException(null, $"the message body is not valid JSON: {exception.Message}");
        }

        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new EventRejectedException(null, $"the message body must be one JSON object, the event, not {element.ValueKind}; send one message per event");
        }

        var eventId = element.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : null;
        if (await batcher.IngestAsync(element, context.CancellationToken).ConfigureAwait(false) is { } reason)
        {
            // Thrown without retry (see EventsModule): MassTransit moves the message to the error
            // queue with this reason in its fault headers.
            throw new EventRejectedException(eventId, reason);
        }

        Log.Consumed(logger, eventId);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1013, Level = LogLevel.Debug, Message = "Consumed event {EventId} from the plain JSON queue")]
        public static partial void Consumed(ILogger logger, string? eventId);
    }
}
