using System.Text.Json;
using System.Text.Json.Serialization;

namespace LambdaStats.Modules.Events.Contracts;

/// <summary>
/// Message type of the plain JSON queue, for producers without MassTransit. It has no members:
/// the consumer reads the message body as sent, one event in the JSON shape of
/// <c>POST /api/events</c>, and validates it with the rules of that endpoint.
/// </summary>
/// <remarks>
/// Its converter accepts any JSON value. So a body that is valid JSON but not an object (an
/// array, a string) reaches the consumer, which rejects it with its own reason. Without it,
/// MassTransit would fail with a message that names this type.
/// </remarks>
[JsonConverter(typeof(AnyValueConverter))]
public sealed class AudienceEventJson
{
    private sealed class AnyValueConverter : JsonConverter<AudienceEventJson>
    {
        public override AudienceEventJson Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            reader.Skip();
            return new AudienceEventJson();
        }

        public override void Write(Utf8JsonWriter writer, AudienceEventJson value, JsonSerializerOptions options)
        {
            writer.WriteStartObject();
            writer.WriteEndObject();
        }
    }
}
