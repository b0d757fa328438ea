namespace LambdaStats.Modules.Common;

/// <summary>
/// One daily time bucket in UTC: the half-open range from midnight UTC to the next midnight UTC.
/// </summary>
/// <remarks>The value is the number of whole days since 0001-01-01. The default value is 0001-01-01.</remarks>
public readonly record struct UtcDay : IComparable<UtcDay>
{
    public static readonly UtcDay MinValue = new(0);

    public UtcDay(long index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        Index = index;
    }

    /// <summary>Whole days since 0001-01-01.</summary>
    public long Index { get; }

    /// <summary>Midnight UTC at the start of the day, inclusive.</summary>
    public DateTimeOffset Start => new(Index * TimeSpan.TicksPerDay, TimeSpan.Zero);

    /// <summary>Midnight UTC at the end of the day, exclusive.</summary>
    public DateTimeOffset End => Start.AddDays(1);

    public UtcHour FirstHour => new(Index * 24);

    /// <summary>The hour after the last hour of the day, exclusive.</summary>
    public UtcHour EndHour => new((Index + 1) * 24);

    public UtcDay Next => new(Index + 1);

    public static UtcDay Containing(DateTimeOffset instant) => new(instant.UtcTicks / TimeSpan.TicksPerDay);

    /// <summary>Returns the first day that starts at or after <paramref name="hour"/>.</summary>
    public static UtcDay FirstStartingAtOrAfter(UtcHour hour) => new((hour.Index + 23) / 24);

    public int CompareTo(UtcDay other) => Index.CompareTo(other.Index);

    public static bool operator <(UtcDay left, UtcDay right) => left.Index < right.Index;

    public static bool operator >(UtcDay left, UtcDay right) => left.Index > right.Index;

    public static bool operator <=(UtcDay left, UtcDay right) => left.Index <= right.Index;

    public static bool operator >=(UtcDay left, UtcDay right) => left.Index >= right.Index;

    public override string ToString() => Start.UtcDateTime.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
}
