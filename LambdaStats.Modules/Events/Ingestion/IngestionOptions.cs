namespace LambdaStats.Modules.Events.Ingestion;

/// <summary>Limits applied to incoming events, bound from the <c>Ingestion</c> section.</summary>
public sealed class IngestionOptions
{
    public const string SectionName = "Ingestion";

    /// <summary>Largest accepted <see cref="MaxFutureSkew"/>: beyond it, the server clock plus the skew could pass year 9999.</summary>
    public static readonly TimeSpan LongestFutureSkew = TimeSpan.FromDays(365);

    /// <summary>Largest accepted <see cref="MaxLateness"/>; longer limits are no limit in practice, and could reach before year 1.</summary>
    public static readonly TimeSpan LongestLateness = TimeSpan.FromDays(36_500);

    /// <summary>How far in the future <c>occurredAt</c> may be, compared with the server clock. Default 5 minutes, at most 365 days.</summary>
    public TimeSpan MaxFutureSkew { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How old <c>occurredAt</c> may be on the live path. Null (the default) accepts any age, so
    /// that history can be imported. At most 36,500 days.
    /// </summary>
    public TimeSpan? MaxLateness { get; set; }
}
