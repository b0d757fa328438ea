using System.Globalization;
using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Common;

namespace LambdaStats.Modules.Batch;

/// <summary>What one batch run covers beyond the usual catch-up.</summary>
/// <param name="Aggregation">The only aggregation to run, or null for all.</param>
/// <param name="WatermarkCap">The watermark stops here even if later hours are closed: one step of a backfill.</param>
/// <param name="RecomputeFrom">First hour to recompute although the views cover it, UTC.</param>
/// <param name="RecomputeTo">End of the hours to recompute, exclusive, UTC.</param>
internal sealed record BatchRunRequest(string? Aggregation, UtcHour? WatermarkCap, UtcHour? RecomputeFrom, UtcHour? RecomputeTo)
{
    public static readonly BatchRunRequest Hourly = new(null, null, null, null);

    public bool Includes(AggregationDefinition definition) =>
        Aggregation is null || string.Equals(Aggregation, definition.Name, StringComparison.Ordinal);

    /// <summary>Names the run in logs: the hourly batch, a recompute with its range, or a backfill step with its cap.</summary>
    public string Describe()
    {
        var scope = Aggregation ?? "every aggregation";
        if (RecomputeFrom is { } from && RecomputeTo is { } to)
        {
            return $"Recompute of {scope} from {Format(from)} to {Format(to)}";
        }

        if (WatermarkCap is { } cap)
        {
            return $"Backfill step of {scope} up to {Format(cap)}";
        }

        return Aggregation is null ? "Hourly batch" : $"Hourly batch of {Aggregation}";
    }

    /// <summary>Every hour of the recompute range before <paramref name="watermark"/>, with or without events: an emptied hour must lose its rows.</summary>
    public IEnumerable<UtcHour> RecomputedHoursBefore(UtcHour watermark)
    {
        if (RecomputeFrom is not { } from || RecomputeTo is not { } to)
        {
            yield break;
        }

        for (var hour = from; hour < UtcHour.Min(to, watermark); hour = hour.Next)
        {
            yield return hour;
        }
    }

    private static string Format(UtcHour hour) => hour.Start.ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);
}
