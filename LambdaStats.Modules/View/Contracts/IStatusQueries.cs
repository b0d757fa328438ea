namespace LambdaStats.Modules.View.Contracts;

/// <summary>Operational state of each aggregation, for the admin status endpoint.</summary>
public interface IStatusQueries
{
    Task<IReadOnlyList<AggregationStatus>> GetStatusAsync(CancellationToken cancellationToken);
}

/// <param name="Watermark">Hourly batch watermark, UTC; null before the first batch run.</param>
/// <param name="DailyWatermark">Daily views exist for every UTC day before this midnight; null before the first daily run.</param>
/// <param name="SpeedHours">Start of every hour held in the speed layer's memory, UTC.</param>
/// <param name="StoredEvents">Stored events of the aggregation's event type.</param>
public sealed record AggregationStatus(
    string Aggregation,
    string EventType,
    DateTimeOffset? Watermark,
    DateTimeOffset? DailyWatermark,
    long Sequence,
    IReadOnlyList<DateTimeOffset> SpeedHours,
    long StoredEvents);
