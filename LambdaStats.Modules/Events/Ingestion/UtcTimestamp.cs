namespace LambdaStats.Modules.Events.Ingestion;

/// <summary>
/// Parses the usual form of <c>occurredAt</c>, <c>yyyy-MM-ddTHH:mm:ss</c> with 0 to 7 fraction
/// digits and a final <c>Z</c>, without the general parser.
/// </summary>
/// <remarks>
/// <see cref="DateTimeOffset.TryParse(string, IFormatProvider, System.Globalization.DateTimeStyles, out DateTimeOffset)"/>
/// with the invariant culture returns the same instant for every text this accepts. A text it
/// rejects, valid or not, goes to that general parser, so the set of accepted timestamps does not change.
/// </remarks>
internal static class UtcTimestamp
{
    private const int SecondsLength = 19;
    private const int MaxFractionDigits = 7;

    public static bool TryParse(string text, out DateTimeOffset value)
    {
        value = default;
        if (text.Length < SecondsLength + 1 || text[^1] != 'Z'
            || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' || text[16] != ':')
        {
            return false;
        }

        if (!TryDigits(text, 0, 4, out var year) || !TryDigits(text, 5, 2, out var month) || !TryDigits(text, 8, 2, out var day)
            || !TryDigits(text, 11, 2, out var hour) || !TryDigits(text, 14, 2, out var minute) || !TryDigits(text, 17, 2, out var second))
        {
            return false;
        }

        if (year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month)
            || hour > 23 || minute > 59 || second > 59)
        {
            return false;
        }

        long fractionTicks = 0;
        var fractionDigits = text.Length - SecondsLength - 1;
        if (fractionDigits > 0)
        {
            // A dot and 1 to 7 digits. Padding the digits to 7 gives the fraction in 100 ns ticks.
            fractionDigits--;
            if (text[SecondsLength] != '.' || fractionDigits is < 1 or > MaxFractionDigits
                || !TryDigits(text, SecondsLength + 1, fractionDigits, out var fraction))
            {
                return false;
            }

            fractionTicks = fraction;
            for (var i = fractionDigits; i < MaxFractionDigits; i++)
            {
                fractionTicks *= 10;
            }
        }

        var ticks = new DateTime(year, month, day, hour, minute, second, DateTimeKind.Utc).Ticks + fractionTicks;
        value = new DateTimeOffset(ticks, TimeSpan.Zero);
        return true;
    }

    private static bool TryDigits(string text, int start, int count, out int value)
    {
        value = 0;
        for (var i = start; i < start + count; i++)
        {
            var digit = text[i] - '0';
            if ((uint)digit > 9)
            {
                return false;
            }

            value = (value * 10) + digit;
        }

        return true;
    }
}
