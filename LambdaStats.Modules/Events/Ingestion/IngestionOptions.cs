namespace LambdaStats.Modules.Events.Ingestion;

/// <summary>Limits applied to incoming events, bound from the <c>Ingestion</c> section.</summary>
public sealed class IngestionOptions
{
    public const string SectionName = "Ingestion";

    /// <summary>How far in the future <c>occurredAt</c> may be, compared with the server clock. Default 5 minutes.</summary>
    public TimeSpan MaxFutureSkew { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How old <c>occurredAt</c> may be on the live path. Null (the default) accepts any age, so
    /// that history can be imported.
    /// </summary>
    public TimeSpan? MaxLateness { get; set; }
}
