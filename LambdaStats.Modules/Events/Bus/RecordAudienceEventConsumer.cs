using System.Text.Json;
using LambdaStats.Modules.Events.Contracts;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace LambdaStats.Modules.Events.Bus;

/// <summary>Feeds bus messages into the ingestion pipeline that HTTP uses.</summary>
internal sealed partial class RecordAudienceEventConsumer(BusEventBatcher batcher, ILogger<RecordAudienceEventConsumer> logger)
    : IConsumer<RecordAudienceEvent>
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    public async Task Consume(ConsumeContext<RecordAudienceEvent> context)
    {
        if (context.ReceiveContext.Body.Length is { } length)
        {
            EventMessageLimits.CheckBodySize(length);
        }

        var element = JsonSerializer.SerializeToElement(context.Message, Json);
        if (await batcher.IngestAsync(element, context.CancellationToken).ConfigureAwait(false) is { } reason)
        {
            // Thrown without retry (see EventsModule): MassTransit moves the message to the error
            // queue with this reason in its fault headers.
            throw new EventRejectedException(context.Message.Id, reason);
        }

        Log.Consumed(logger, context.Message.Id, context.MessageId);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1010, Level = LogLevel.Debug, Message = "Consumed event {EventId} from message {MessageId}")]
        public static partial void Consumed(ILogger logger, string? eventId, Guid? messageId);
    }
}

/// <summary>An event from the bus that failed validation; the message goes to the error queue.</summary>
public sealed class EventRejectedException(string? eventId, string reason)
    : Exception(eventId is null ? $"Event rejected: {reason}" : $"Event '{eventId}' rejected: {reason}")
{
    public string? EventId { get; } = eventId;

    public string Reason { get; } = reason;
}
