using LambdaStats.Modules.Common;

namespace LambdaStats.Modules.View.Contracts;

/// <summary>
/// How far the batch layer has gone for one aggregation. The hourly views of every hour before
/// <see cref="Watermark"/> hold exactly the events of that hour whose sequence is at most
/// <see cref="Sequence"/>; the daily views of every day before <see cref="DailyWatermark"/> equal
/// the merge of that day's hourly views.
/// </summary>
/// <remarks>
/// Everything else (events in hours at or after the watermark, and late events with a higher
/// sequence in earlier hours) is the speed layer's to answer. Together they cover each stored
/// event exactly once.
/// </remarks>
public sealed record BatchFrontier(UtcHour Watermark, long Sequence, UtcDay DailyWatermark)
{
    /// <summary>The frontier before the first batch run: no views, everything in the speed layer.</summary>
    public static readonly BatchFrontier Initial = new(UtcHour.MinValue, 0, UtcDay.MinValue);

    public bool IsInitial => Watermark == UtcHour.MinValue;
}
