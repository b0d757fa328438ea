namespace LambdaStats.Modules.Events.Contracts;

/// <summary>The event fields that aggregations can key, group, count or sum on.</summary>
public enum EventField
{
    Id = 1,
    HubId,
    MediaId,
    VisitorId,
    SessionId,
    Page,
    DurationSeconds,
    Network,
    ContactKind,
}

/// <summary>Reads an <see cref="EventField"/> from an event without allocating for warm values.</summary>
public static class EventFields
{
    private const int CachedPageCount = 4096;
    private static readonly string[] PageStrings = CreatePageStrings();

    /// <summary>Names as they appear in JSON and in configuration.</summary>
    public static string JsonName(EventField field) => field switch
    {
        EventField.Id => "id",
        EventField.HubId => "hubId",
        EventField.MediaId => "mediaId",
        EventField.VisitorId => "visitorId",
        EventField.SessionId => "sessionId",
        EventField.Page => "page",
        EventField.DurationSeconds => "durationSeconds",
        EventField.Network => "network",
        EventField.ContactKind => "contactKind",
        _ => throw new ArgumentOutOfRangeException(nameof(field), field, "Unknown event field."),
    };

    public static bool TryParse(string name, out EventField field)
    {
        foreach (var candidate in Enum.GetValues<EventField>())
        {
            if (string.Equals(JsonName(candidate), name, StringComparison.OrdinalIgnoreCase))
            {
                field = candidate;
                return true;
            }
        }

        field = default;
        return false;
    }

    public static bool IsNumeric(EventField field) => field is EventField.Page or EventField.DurationSeconds;

    /// <summary>
    /// Returns the field as a string, or null when the event does not carry it. Page numbers up to
    /// 4096 come from a cache, so reading them does not allocate.
    /// </summary>
    public static string? GetString(LambdaEvent e, EventField field) => field switch
    {
        EventField.Id => e.Id,
        EventField.HubId => e.HubId,
        EventField.MediaId => e.MediaId,
        EventField.VisitorId => e.VisitorId,
        EventField.SessionId => e.SessionId,
        EventField.Page => e.Page is { } page ? PageString(page) : null,
        EventField.DurationSeconds => e.DurationSeconds?.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        EventField.Network => e.Network,
        EventField.ContactKind => e.ContactKind,
        _ => null,
    };

    /// <summary>Returns the field as a number, or null when the event does not carry it or it is not numeric.</summary>
    public static double? GetNumber(LambdaEvent e, EventField field) => field switch
    {
        EventField.Page => e.Page,
        EventField.DurationSeconds => e.DurationSeconds,
        _ => null,
    };

    private static string PageString(int page) =>
        page is > 0 and <= CachedPageCount ? PageStrings[page] : page.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string[] CreatePageStrings()
    {
        var strings = new string[CachedPageCount + 1];
        for (var i = 0; i <= CachedPageCount; i++)
        {
            strings[i] = i.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return strings;
    }
}
