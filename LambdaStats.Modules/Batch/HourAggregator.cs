using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Common;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.View.Contracts;

namespace LambdaStats.Modules.Batch;

/// <summary>Computes the exact view of one hour from the event store, with the aggregator code the speed layer uses.</summary>
internal static class HourAggregator
{
    public static async Task<BucketRows<UtcHour>> ComputeAsync(
        IEventStore store,
        AggregationDefinition definition,
        UtcHour hour,
        long upToSequence,
        CancellationToken cancellationToken)
    {
        var rows = new Dictionary<AggregationKey, AggregateRow>();
        await foreach (var e in store.ScanAsync(definition.EventType, hour.Start, hour.End, 0, upToSequence, cancellationToken).ConfigureAwait(false))
        {
            var key = definition.KeyOf(e);
            if (!rows.TryGetValue(key, out var row))
            {
                row = definition.CreateRow();
                rows.Add(key, row);
            }

            row.Add(e);
        }

        return new BucketRows<UtcHour>(hour, rows);
    }

    /// <summary>Merges hourly rows into the rows of their day.</summary>
    public static BucketRows<UtcDay> MergeDay(AggregationDefinition definition, UtcDay day, IEnumerable<BucketRows<UtcHour>> hours)
    {
        var rows = new Dictionary<AggregationKey, AggregateRow>();
        foreach (var hour in hours)
        {
            foreach (var (key, row) in hour.Rows)
            {
                if (rows.TryGetValue(key, out var merged))
                {
                    merged.Merge(row);
                }
                else
                {
                    rows.Add(key, row.Clone());
                }
            }
        }

        return new BucketRows<UtcDay>(day, rows);
    }
}
