namespace LambdaStats.Modules.Common;

/// <summary>
/// One hourly time bucket in UTC: the half-open range [<see cref="Start"/>, <see cref="End"/>).
/// </summary>
/// <remarks>
/// The value is the number of whole hours since 0001-01-01T00:00Z, so an instant at exactly the
/// start of an hour belongs to that hour and not to the previous one. The default value is the
/// hour starting at 0001-01-01T00:00Z. Instances are immutable and safe to share between threads.
/// </remarks>
public readonly record struct UtcHour : IComparable<UtcHour>
{
    public static readonly UtcHour MinValue = new(0);
    public static readonly UtcHour MaxValue = new(DateTime.MaxValue.Ticks / TimeSpan.TicksPerHour);

    public UtcHour(long index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(index, DateTime.MaxValue.Ticks / TimeSpan.TicksPerHour);
        Index = index;
    }

    /// <summary>Whole hours since 0001-01-01T00:00Z.</summary>
    public long Index { get; }

    /// <summary>First instant of the hour, UTC, inclusive.</summary>
    public DateTimeOffset Start => new(Index * TimeSpan.TicksPerHour, TimeSpan.Zero);

    /// <summary>First instant after the hour, UTC, exclusive.</summary>
    public DateTimeOffset End => Start.AddHours(1);

    public UtcDay Day => new(Index / 24);

    public UtcHour Next => new(Index + 1);

    /// <summary>Returns the hour that contains <paramref name="instant"/>.</summary>
    public static UtcHour Containing(DateTimeOffset instant) => new(instant.UtcTicks / TimeSpan.TicksPerHour);

    /// <summary>Returns the hour starting at <paramref name="instant"/>, which must fall on the hour.</summary>
    public static UtcHour StartingAt(DateTimeOffset instant)
    {
        if (instant.UtcTicks % TimeSpan.TicksPerHour != 0)
        {
            throw new ArgumentException($"Instant {instant:O} does not fall on the hour.", nameof(instant));
        }

        return Containing(instant);
    }

    public static bool IsOnTheHour(DateTimeOffset instant) => instant.UtcTicks % TimeSpan.TicksPerHour == 0;

    public UtcHour AddHours(long hours) => new(Index + hours);

    public int CompareTo(UtcHour other) => Index.CompareTo(other.Index);

    public static bool operator <(UtcHour left, UtcHour right) => left.Index < right.Index;

    public static bool operator >(UtcHour left, UtcHour right) => left.Index > right.Index;

    public static bool operator <=(UtcHour left, UtcHour right) => left.Index <= right.Index;

    public static bool operator >=(UtcHour left, UtcHour right) => left.Index >= right.Index;

    public static UtcHour Min(UtcHour a, UtcHour b) => a < b ? a : b;

    public static UtcHour Max(UtcHour a, UtcHour b) => a > b ? a : b;

    public override string ToString() => Start.UtcDateTime.ToString("yyyy-MM-dd'T'HH':00Z'", System.Globalization.CultureInfo.InvariantCulture);
}
