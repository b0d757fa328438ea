using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace LambdaStats.Modules.Events.Ingestion;

/// <summary>
/// The properties of one event object that <see cref="EventParser"/> reads, found in one pass over
/// the object. A property the object lacks stays the default element (<see cref="JsonValueKind.Undefined"/>).
/// </summary>
/// <remarks>
/// One pass replaces a <see cref="JsonElement.TryGetProperty(string, out JsonElement)"/> call per
/// field, each of which scans the whole object. Names match case-sensitively after unescaping, and
/// a repeated name keeps its last value, as <c>TryGetProperty</c> does.
/// </remarks>
internal struct EventJsonFields
{
    public JsonElement Id;
    public JsonElement Type;
    public JsonElement OccurredAt;
    public JsonElement HubId;
    public JsonElement MediaId;
    public JsonElement VisitorId;
    public JsonElement SessionId;
    public JsonElement Page;
    public JsonElement DurationSeconds;
    public JsonElement Network;
    public JsonElement ContactKind;
    public JsonElement Properties;

    /// <param name="json">A JSON object.</param>
    public static EventJsonFields Read(JsonElement json)
    {
        var fields = default(EventJsonFields);
        foreach (var property in json.EnumerateObject())
        {
            // The raw name is the name as sent, escapes included. An escaped name is rare, so it is
            // unescaped and encoded again rather than compared escape by escape.
            var rawName = JsonMarshal.GetRawUtf8PropertyName(property);
            var name = rawName.Contains((byte)'\\') ? Encoding.UTF8.GetBytes(property.Name) : rawName;
            fields.Set(name, property.Value);
        }

        return fields;
    }

    private void Set(ReadOnlySpan<byte> name, JsonElement value)
    {
        switch (name.Length)
        {
            case 2 when name.SequenceEqual("id"u8):
                Id = value;
                break;
            case 4 when name.SequenceEqual("type"u8):
                Type = value;
                break;
            case 4 when name.SequenceEqual("page"u8):
                Page = value;
                break;
            case 5 when name.SequenceEqual("hubId"u8):
                HubId = value;
                break;
            case 7 when name.SequenceEqual("mediaId"u8):
                MediaId = value;
                break;
            case 7 when name.SequenceEqual("network"u8):
                Network = value;
                break;
            case 9 when name.SequenceEqual("visitorId"u8):
                VisitorId = value;
                break;
            case 9 when name.SequenceEqual("sessionId"u8):
                SessionId = value;
                break;
            case 10 when name.SequenceEqual("occurredAt"u8):
                OccurredAt = value;
                break;
            case 10 when name.SequenceEqual("properties"u8):
                Properties = value;
                break;
            case 11 when name.SequenceEqual("contactKind"u8):
                ContactKind = value;
                break;
            case 15 when name.SequenceEqual("durationSeconds"u8):
                DurationSeconds = value;
                break;
        }
    }
}
