using LambdaStats.Modules.View.Contracts;

namespace LambdaStats.Modules.View;

/// <summary>Splits a period into the local hours or local days of a time zone, as UTC ranges.</summary>
internal static class SeriesBuckets
{
    /// <summary>
    /// Returns consecutive half-open ranges covering [<paramref name="from"/>, <paramref name="to"/>),
    /// cut at every local hour or local midnight of <paramref name="zone"/>. The first and last
    /// ranges are clipped to the period.
    /// </summary>
    public static List<(DateTimeOffset From, DateTimeOffset To)> Split(DateTimeOffset from, DateTimeOffset to, TimeZoneInfo zone, SeriesBucket bucket, int maxBuckets)
    {
        var boundaries = bucket == SeriesBucket.Hour ? LocalHourStarts(from, to, zone) : LocalMidnights(from, to, zone);
        var result = new List<(DateTimeOffset, DateTimeOffset)>();
        var start = from;
        foreach (var boundary in boundaries)
        {
            if (boundary <= start || boundary >= to)
            {
                continue;
            }

            result.Add((start, boundary));
            start = boundary;
            if (result.Count > maxBuckets)
            {
                var advice = bucket == SeriesBucket.Hour ? "shorten the period or use bucket=day" : "shorten the period";
                throw new InvalidQueryException("bucket", $"The series would have more than {maxBuckets} buckets; {advice}.");
            }
        }

        result.Add((start, to));
        return result;
    }

    /// <summary>
    /// Instants where the local clock shows a whole hour. Offsets in use are whole quarters of
    /// an hour, so each UTC hour holds exactly one such instant, at the minute the offset sets.
    /// </summary>
    private static IEnumerable<DateTimeOffset> LocalHourStarts(DateTimeOffset from, DateTimeOffset to, TimeZoneInfo zone)
    {
        var hour = new DateTimeOffset(from.UtcTicks - from.UtcTicks % TimeSpan.TicksPerHour, TimeSpan.Zero).AddHours(-1);
        for (; hour < to; hour = hour.AddHours(1))
        {
            var offsetMinutes = (int)zone.GetUtcOffset(hour).TotalMinutes;
            var shift = ((60 - (offsetMinutes % 60)) % 60 + 60) % 60;
            var candidate = hour.AddMinutes(shift);
            if (zone.GetUtcOffset(candidate) == zone.GetUtcOffset(hour))
            {
                yield return candidate;
            }
            else
            {
                // The offset changes inside this hour (a DST change on a non-hour offset): the
                // local hour starts where the new offset puts it.
                var changed = (int)zone.GetUtcOffset(candidate).TotalMinutes;
                yield return hour.AddMinutes(((60 - (changed % 60)) % 60 + 60) % 60);
            }
        }
    }

    /// <summary>Local midnights as UTC instants; a midnight skipped by a DST change becomes the first local instant of that day.</summary>
    private static IEnumerable<DateTimeOffset> LocalMidnights(DateTimeOffset from, DateTimeOffset to, TimeZoneInfo zone)
    {
        var day = TimeZoneInfo.ConvertTime(from, zone).Date;
        var lastDay = TimeZoneInfo.ConvertTime(to, zone).Date.AddDays(1);
        for (; day <= lastDay; day = day.AddDays(1))
        {
            var local = DateTime.SpecifyKind(day, DateTimeKind.Unspecified);
            while (zone.IsInvalidTime(local))
            {
                local = local.AddMinutes(15);
            }

            var offset = zone.IsAmbiguousTime(local) ? zone.GetAmbiguousTimeOffsets(local).Max() : zone.GetUtcOffset(local);
            yield return new DateTimeOffset(local, offset).ToUniversalTime();
        }
    }
}
