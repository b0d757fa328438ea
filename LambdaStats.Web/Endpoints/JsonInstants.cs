using System.Globalization;

namespace LambdaStats.Web.Endpoints;

/// <summary>Formats and parses the ISO-8601 instants of the HTTP API.</summary>
internal static class JsonInstants
{
    public static string Format(DateTimeOffset instant) =>
        instant.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);

    /// <summary>Parses an instant that carries an explicit offset or Z; a local time without offset is ambiguous and rejected.</summary>
    public static bool TryParse(string? text, out DateTimeOffset instant)
    {
        instant = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var timeStart = text.IndexOf('T', StringComparison.OrdinalIgnoreCase);
        if (timeStart < 0)
        {
            return false;
        }

        var time = text.AsSpan(timeStart + 1);
        if (!time.EndsWith("Z", StringComparison.OrdinalIgnoreCase) && time.IndexOfAny('+', '-') < 0)
        {
            return false;
        }

        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed))
        {
            return false;
        }

        instant = parsed.ToUniversalTime();
        return true;
    }
}
