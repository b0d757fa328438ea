using System.Runtime.InteropServices;
using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Common;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.View.Contracts;

namespace LambdaStats.Modules.Batch;

/// <summary>Computes the exact view of one hour from the event store, with the aggregator code the speed layer uses.</summary>
internal static class HourAggregator
{
    /// <summary>
    /// Computes the hour for several aggregations of the same event type from one scan of the
    /// store, and returns their rows in the order of <paramref name="definitions"/>.
    /// </summary>
    public static async Task<BucketRows<UtcHour>[]> ComputeAsync(
        IEventStore store,
        IReadOnlyList<AggregationDefinition> definitions,
        UtcHour hour,
        long upToSequence,
        CancellationToken cancellationToken)
    {
        var eventType = definitions[0].EventType;
        if (definitions.Any(definition => definition.EventType != eventType))
        {
            throw new ArgumentException($"One scan serves aggregations of one event type; got {string.Join(", ", definitions.Select(d => $"{d.Name} ({d.EventType})"))}.", nameof(definitions));
        }

        var rows = new Dictionary<AggregationKey, AggregateRow>[definitions.Count];
        for (var i = 0; i < rows.Length; i++)
        {
            rows[i] = [];
        }

        await foreach (var e in store.ScanAsync(eventType, hour.Start, hour.End, 0, upToSequence, cancellationToken).ConfigureAwait(false))
        {
            for (var i = 0; i < rows.Length; i++)
            {
                var definition = definitions[i];
                ref var row = ref CollectionsMarshal.GetValueRefOrAddDefault(rows[i], definition.KeyOf(e), out var exists);
                if (!exists)
                {
                    row = definition.CreateRow();
                }

                row!.Add(e);
            }
        }

        return Array.ConvertAll(rows, hourRows => new BucketRows<UtcHour>(hour, hourRows));
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
