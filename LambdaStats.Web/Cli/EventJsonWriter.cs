using System.Text.Json;
using LambdaStats.Modules.Events.Contracts;

namespace LambdaStats.Web.Cli;

/// <summary>
/// Writes import records as the JSON event objects that <c>POST /api/events</c> accepts. Null
/// fields are left out.
/// </summary>
internal static class EventJsonWriter
{
    public static void WriteArray(Utf8JsonWriter writer, IReadOnlyList<ImportRecord> batch)
    {
        writer.WriteStartArray();
        foreach (var record in batch)
        {
            if (record.Validated is { } validated)
            {
                WriteEvent(writer, validated);
            }
            else
            {
                record.Json!.Value.WriteTo(writer);
            }
        }

        writer.WriteEndArray();
    }

    public static void WriteEvent(Utf8JsonWriter writer, LambdaEvent e)
    {
        writer.WriteStartObject();
        writer.WriteString("id", e.Id);
        writer.WriteString("type", e.Type.ToString());

        // ISO 8601 with an explicit offset, for example 1995-08-01T06:00:00+00:00, as the
        // ingestion pipeline requires.
        writer.WriteString("occurredAt", e.OccurredAt);
        writer.WriteString(EventFields.JsonName(EventField.HubId), e.HubId);
        WriteOptional(writer, EventField.MediaId, e.MediaId);
        WriteOptional(writer, EventField.VisitorId, e.VisitorId);
        WriteOptional(writer, EventField.SessionId, e.SessionId);
        if (e.Page is { } page)
        {
            writer.WriteNumber(EventFields.JsonName(EventField.Page), page);
        }

        if (e.DurationSeconds is { } duration)
        {
            writer.WriteNumber(EventFields.JsonName(EventField.DurationSeconds), duration);
        }

        WriteOptional(writer, EventField.Network, e.Network);
        WriteOptional(writer, EventField.ContactKind, e.ContactKind);
        if (e.Properties is { } properties)
        {
            writer.WritePropertyName("properties");
            properties.WriteTo(writer);
        }

        writer.WriteEndObject();
    }

    private static void WriteOptional(Utf8JsonWriter writer, EventField field, string? value)
    {
        if (value is not null)
        {
            writer.WriteString(EventFields.JsonName(field), value);
        }
    }
}
