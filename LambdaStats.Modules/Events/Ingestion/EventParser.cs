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
    /// <summary>Earliest accepted occurredAt, equal to the earliest <c>from</c> of the aggregation endpoint.</summary>
    private static readonly DateTimeOffset EarliestOccurredAt = new(1, 1, 2, 0, 0, 0, TimeSpan.Zero);

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

        var fields = EventJsonFields.Read(json);
        if (!TryGetString(fields.Id, "id", required: true, out var id, out var error))
        {
            return ParseOutcome.Fail(null, error);
        }

        if (id!.Length is 0 or > MaxIdLength)
        {
            return ParseOutcome.Fail(id.Length > MaxIdLength ? null : id, $"id: must be 1 to {MaxIdLength} characters long, got {id.Length}");
        }

        var outcome = ParseFields(fields, id, now);
        return outcome;
    }

    private ParseOutcome ParseFields(in EventJsonFields fields, string id, DateTimeOffset now)
    {
        if (!TryGetString(fields.Type, "type", required: true, out var typeName, out var error))
        {
            return ParseOutcome.Fail(id, error);
        }

        if (!TypesByName.TryGetValue(typeName!, out var type))
        {
            return ParseOutcome.Fail(id, $"type: unknown event type '{typeName}'; known types are {KnownTypes}");
        }

        if (!TryGetOccurredAt(fields.OccurredAt, now, out var occurredAt, out error)
            || !TryGetString(fields.HubId, "hubId", required: true, out var hubId, out error)
            || !TryGetString(fields.MediaId, "mediaId", required: MediaEvents.Contains(type), out var mediaId, out error)
            || !TryGetString(fields.VisitorId, "visitorId", required: false, out var visitorId, out error)
            || !TryGetString(fields.SessionId, "sessionId", required: false, out var sessionId, out error)
            || !TryGetString(fields.Network, "network", required: type == EventType.MediaShared, out var network, out error)
            || !TryGetString(fields.ContactKind, "contactKind", required: type == EventType.ContactRequested, out var contactKind, out error)
            || !TryGetPage(fields.Page, required: type == EventType.PageViewed, out var page, out error)
            || !TryGetDuration(fields.DurationSeconds, out var duration, out error)
            || !TryGetProperties(fields.Properties, out var properties, out error))
        {
            return ParseOutcome.Fail(id, error);
        }

        if (hubId!.Contains('/', StringComparison.Ordinal))
        {
            return ParseOutcome.Fail(id, $"hubId: must not contain '/', because the hub is a segment of the query URL, got '{hubId}'");
        }

        if (hubId is "." or "..")
        {
            return ParseOutcome.Fail(id, $"hubId: must not be '.' or '..', because the hub is a segment of the query URL and clients resolve those segments away, got '{hubId}'");
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
            // An empty visitor id means an unknown visitor, as a missing one does, so that it is
            // not counted as one more unique visitor.
            VisitorId = visitorId is { Length: 0 } ? null : visitorId,
            SessionId = sessionId,
            Page = page,
            DurationSeconds = duration,
            Network = network,
            ContactKind = contactKind,
            Properties = properties,
        };
        return ParseOutcome.Success(parsed);
    }

    private bool TryGetOccurredAt(JsonElement value, DateTimeOffset now, out DateTimeOffset occurredAt, out string error)
    {
        occurredAt = default;
        if (!TryGetString(value, "occurredAt", required: true, out var text, out error))
        {
            return false;
        }

        if (!UtcTimestamp.TryParse(text!, out var parsed)
            && (!HasExplicitOffset(text!) || !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out parsed)))
        {
            error = $"occurredAt: must be an ISO-8601 timestamp with an offset (for example 2026-01-10T09:30:00Z), got '{text}'";
            return false;
        }

        occurredAt = parsed.ToUniversalTime();
        if (occurredAt < EarliestOccurredAt)
        {
            error = $"occurredAt: {text} is before {EarliestOccurredAt:yyyy-MM-ddTHH:mm:ssZ}, the earliest instant a query can cover";
            return false;
        }

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

    private static bool TryGetPage(JsonElement value, bool required, out int? page, out string error)
    {
        page = null;
        error = string.Empty;
        if (IsAbsent(value))
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

    private static bool TryGetDuration(JsonElement value, out double? duration, out string error)
    {
        duration = null;
        error = string.Empty;
        if (IsAbsent(value))
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

    private static bool TryGetProperties(JsonElement value, out JsonElement? properties, out string error)
    {
        properties = null;
        error = string.Empty;
        if (IsAbsent(value))
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

    /// <summary>True for a property missing from the event (the default element) or set to null.</summary>
    private static bool IsAbsent(JsonElement value) => value.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null;

    private static bool TryGetString(JsonElement element, string name, bool required, out string? value, out string error)
    {
        value = null;
        error = string.Empty;
        if (IsAbsent(element))
        {
            error = required ? $"{name}: required" : string.Empty;
            return !required;
        }

        if (element.ValueKind != JsonValueKind.String)
        {
            error = $"{name}: must be a string, got {element.ValueKind}";
            return false;
        }

        try
        {
            value = element.GetString()!;
        }
        catch (InvalidOperationException)
        {
            // System.Text.Json reads strings lazily: invalid UTF-8 and escaped unpaired
            // surrogates pass the parse of the document and fail only here.
            error = $"{name}: must be valid Unicode text (UTF-8 without unpaired surrogates)";
            return false;
        }

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
