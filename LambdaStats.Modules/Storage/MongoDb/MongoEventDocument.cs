using System.Text.Json;
using LambdaStats.Modules.Events.Contracts;
using MongoDB.Bson;

namespace LambdaStats.Modules.Storage.MongoDb;

/// <summary>
/// The BSON form of a stored event. The event id is <c>_id</c>, so MongoDB's own unique index
/// keeps each id once. A null optional field is left out of the document.
/// </summary>
/// <remarks>
/// The time is kept as .NET ticks (100 ns, UTC) because a BSON date holds only milliseconds and
/// would not give back the instant that was stored. <c>properties</c> is kept as JSON text, as
/// it came, because a BSON document would change its numbers (<c>1.0</c> becomes <c>1</c>) and
/// lose the order of repeated keys. The type is stored by name, the value of the JSON
/// <c>type</c> field, which stays fixed where the enum's numbers could be renumbered.
/// </remarks>
internal static class MongoEventDocument
{
    public const string Id = "_id";
    public const string Sequence = "seq";
    public const string Type = "type";
    public const string OccurredAtTicks = "occurredAtTicks";
    public const string Hour = "hour";
    public const string HubId = "hubId";
    public const string MediaId = "mediaId";
    public const string VisitorId = "visitorId";
    public const string SessionId = "sessionId";
    public const string Page = "page";
    public const string DurationSeconds = "durationSeconds";
    public const string Network = "network";
    public const string ContactKind = "contactKind";
    public const string Properties = "properties";

    /// <summary>Fields read besides type, time and hub, with the event field each holds.</summary>
    internal static readonly (EventField Field, string Name)[] OptionalFields =
    [
        (EventField.Id, Id),
        (EventField.MediaId, MediaId),
        (EventField.VisitorId, VisitorId),
        (EventField.SessionId, SessionId),
        (EventField.Page, Page),
        (EventField.DurationSeconds, DurationSeconds),
        (EventField.Network, Network),
        (EventField.ContactKind, ContactKind),
    ];

    public static BsonDocument Create(LambdaEvent e, long sequence)
    {
        var ticks = e.OccurredAt.UtcTicks;
        var document = new BsonDocument
        {
            { Id, e.Id },
            { Sequence, sequence },
            { Type, e.Type.ToString() },
            { OccurredAtTicks, ticks },
            { Hour, ticks / TimeSpan.TicksPerHour },
            { HubId, e.HubId },
        };
        AddIfSet(document, MediaId, e.MediaId);
        AddIfSet(document, VisitorId, e.VisitorId);
        AddIfSet(document, SessionId, e.SessionId);
        if (e.Page is { } page)
        {
            document.Add(Page, page);
        }

        if (e.DurationSeconds is { } duration)
        {
            document.Add(DurationSeconds, duration);
        }

        AddIfSet(document, Network, e.Network);
        AddIfSet(document, ContactKind, e.ContactKind);
        if (e.Properties is { } properties)
        {
            document.Add(Properties, properties.GetRawText());
        }

        return document;
    }

    /// <summary>Builds the event of <paramref name="document"/>; a field that a projection left out reads as null, and a missing id as empty.</summary>
    public static LambdaEvent Read(BsonDocument document) => new()
    {
        Id = document.TryGetValue(Id, out var id) ? id.AsString : string.Empty,
        Type = Enum.Parse<EventType>(document[Type].AsString),
        OccurredAt = new DateTimeOffset(document[OccurredAtTicks].AsInt64, TimeSpan.Zero),
        HubId = document[HubId].AsString,
        MediaId = ReadString(document, MediaId),
        VisitorId = ReadString(document, VisitorId),
        SessionId = ReadString(document, SessionId),
        Page = document.TryGetValue(Page, out var page) && !page.IsBsonNull ? page.AsInt32 : null,
        DurationSeconds = document.TryGetValue(DurationSeconds, out var duration) && !duration.IsBsonNull ? duration.AsDouble : null,
        Network = ReadString(document, Network),
        ContactKind = ReadString(document, ContactKind),
        Properties = ReadString(document, Properties) is { } json ? ParseProperties(json) : null,
    };

    private static void AddIfSet(BsonDocument document, string name, string? value)
    {
        if (value is not null)
        {
            document.Add(name, value);
        }
    }

    private static string? ReadString(BsonDocument document, string name) =>
        document.TryGetValue(name, out var value) && !value.IsBsonNull ? value.AsString : null;

    private static JsonElement ParseProperties(string json)
    {
        using var parsed = JsonDocument.Parse(json);
        return parsed.RootElement.Clone();
    }
}
