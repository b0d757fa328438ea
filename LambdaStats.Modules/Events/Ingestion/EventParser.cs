using System.Globalization;
using System.Text.Json;
using LambdaStats.Modules.Events.Contracts;

namespace LambdaStats.Modules.Events.Ingestion;

/// <summary>
/// Turns one JSON object into a <see cref="LambdaEvent"/>, or into an error that names the field
/// and the rule it breaks.
/// </summary>
internal sealed class EventParser(IngestionOptions options)
{
    public const int MaxIdLength = 128;

    /// <summary>Upper bound of <c>durationSeconds</c> (about 31 years), so that sums of many events stay finite.</summary>
    public const double MaxDurationSeconds = 1e9;

    private static readonly string[] ContactKinds = ["callback", "audioCall", "videoCall"];

    private static readonly HashSet<EventType> MediaEvents =
    [
        EventType.MediaOpened, EventType.PageViewed, EventType.MediaDownloaded, EventType.MediaShared,
        EventType.PrintOrdered, EventType.ReadConfirmed, EventType.MediaUploaded,
    ];

    private static readonly Dictionary<string, EventType> TypesByName =
        Enum.GetValues<EventType>().ToDictionary(type => type.ToString(), StringComparer.Ordinal);

    private static readonly string KnownTypes = string.Join(", ", Enum.GetNames<EventType>());

    public ParseOutcome Parse(JsonElement json, DateTimeOffset now)
    {
        if (json.ValueKind != JsonValueKind.Object)
        {
            return ParseOutcome.Fail(null, $"an event must be a JSON object, not {json.ValueKind}");
        }

        string? id = null;
        if (!TryGetString(json, "id", required: true, out id, out var error))
        {
            return ParseOutcome.Fail(null, error);
        }

        if (id!.Length is 0 or > MaxIdLength)
        {
            return ParseOutcome.Fail(id.Length > MaxIdLength ? null : id, $"id: must be 1 to {MaxIdLength} characters long, got {id.Length}");
        }

        var outcome = ParseFields(json, id, now);
        return outcome;
    }

    private ParseOutcome ParseFields(JsonElement json, string id, DateTimeOffset now)
    {
        if (!TryGetString(json, "type", required: true, out var typeName, out var error))
        {
            return ParseOutcome.Fail(id, error);
        }

        if (!TypesByName.TryGetValue(typeName!, out var type))
        {
            return ParseOutcome.Fail(id, $"type: unknown event type '{typeName}'; known types are {KnownTypes}");
        }

        if (!TryGetOccurredAt(json, now, out var occurredAt, out error)
            || !TryGetString(json, "hubId", required: true, out var hubId, out error)
            || !TryGetString(json, "mediaId", required: MediaEvents.Contains(type), out var mediaId, out error)
            || !TryGetString(json, "visitorId", required: false, out var visitorId, out error)
            || !TryGetString(json, "sessionId", required: false, out var sessionId, out error)
            || !TryGetString(json, "network", required: type == EventType.MediaShared, out var network, out error)
            || !TryGetString(json, "contactKind", required: type == EventType.ContactRequested, out var contactKind, out error)
            || !TryGetPage(json, required: type == EventType.PageViewed, out var page, out error)
            || !TryGetDuration(json, out var duration, out error)
            || !TryGetProperties(json, out var properties, out error))
        {
            return ParseOutcome.Fail(id, error);
        }

        if (hubId!.Contains('/', StringComparison.Ordinal))
        {
            return ParseOutcome.Fail(id, $"hubId: must not contain '/', because the hub is a segment of the query URL, got '{hubId}'");
        }

        if (contactKind is not null && !ContactKinds.Contains(contactKind, StringComparer.Ordinal))
        {
            return ParseOutcome.Fail(id, $"contactKind: must be one of {string.Join(", ", ContactKinds)}, got '{contactKind}'");
        }

        var parsed = new LambdaEvent
        {
            Id = id,
            Type = type,
            OccurredAt = occurredAt,
            HubId = hubId!,
            MediaId = mediaId,
            VisitorId = visitorId,
            SessionId = sessionId,
            Page = page,
            DurationSeconds = duration,
            Network = network,
            ContactKind = contactKind,
            Properties = properties,
        };
        return ParseOutcome.Success(parsed);
    }

    private bool TryGetOccurredAt(JsonElement json, DateTimeOffset now, out DateTimeOffset occurredAt, out string error)
    {
        occurredAt = default;
        if (!TryGetString(json, "occurredAt", required: true, out var text, out error))
        {
            return false;
        }

        if (!HasExplicitOffset(text!)
            || !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed))
        {
            error = $"occurredAt: must be an ISO-8601 timestamp with an offset (for example 2026-01-10T09:30:00Z), got '{text}'";
            return false;
        }

        occurredAt = parsed.ToUniversalTime();
        if (occurredAt > now + options.MaxFutureSkew)
        {
            error = $"occurredAt: {text} is more than {options.MaxFutureSkew} in the future of the server clock ({now:O})";
            return false;
        }

        if (options.MaxLateness is { } lateness && occurredAt < now - lateness)
        {
            error = $"occurredAt: {text} is older than the maximum lateness of {lateness} (Ingestion:MaxLateness)";
            return false;
        }

        return true;
    }

    private static bool HasExplicitOffset(string text)
    {
        var timeStart = text.IndexOf('T', StringComparison.OrdinalIgnoreCase);
        if (timeStart < 0)
        {
            return false;
        }

        var time = text.AsSpan(timeStart + 1);
        return time.EndsWith("Z", StringComparison.OrdinalIgnoreCase) || time.IndexOfAny('+', '-') >= 0;
    }

    private static bool TryGetPage(JsonElement json, bool required, out int? page, out string error)
    {
        page = null;
        error = string.Empty;
        if (!json.TryGetProperty("page", out var value) || value.ValueKind == JsonValueKind.Null)
        {
            error = required ? "page: required for this event type" : string.Empty;
            return !required;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var number) || number < 1)
        {
            error = $"page: must be an integer of 1 or more, got {value.GetRawText()}";
            return false;
        }

        page = number;
        return true;
    }

    private static bool TryGetDuration(JsonElement json, out double? duration, out string error)
    {
        duration = null;
        error = string.Empty;
        if (!json.TryGetProperty("durationSeconds", out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var number) || number < 0 || !double.IsFinite(number) || number > MaxDurationSeconds)
        {
            error = $"durationSeconds: must be a number from 0 to {MaxDurationSeconds:0}, got {value.GetRawText()}";
            return false;
        }

        duration = number;
        return true;
    }

    private static bool TryGetProperties(JsonElement json, out JsonElement? properties, out string error)
    {
        properties = null;
        error = string.Empty;
        if (!json.TryGetProperty("properties", out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            error = $"properties: must be a JSON object, got {value.ValueKind}";
            return false;
        }

        properties = value.Clone();
        return true;
    }

    private static bool TryGetString(JsonElement json, string name, bool required, out string? value, out string error)
    {
        value = null;
        error = string.Empty;
        if (!json.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            error = required ? $"{name}: required" : string.Empty;
            return !required;
        }

        if (element.ValueKind != JsonValueKind.String)
        {
            error = $"{name}: must be a string, got {element.ValueKind}";
            return false;
        }

        value = element.GetString()!;
        if (value.Length == 0 && required)
        {
            error = $"{name}: must not be empty";
            return false;
        }

        return true;
    }
}

/// <summary>Either a parsed event or the reason it was rejected.</summary>
internal readonly record struct ParseOutcome(LambdaEvent? Event, string? Id, string? Error)
{
    public static ParseOutcome Success(LambdaEvent parsed) => new(parsed, parsed.Id, null);

    public static ParseOutcome Fail(string? id, string error) => new(null, id, error);
}
