using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Storage.Sqlite;
using LambdaStats.Modules.View.Contracts;

namespace LambdaStats.Modules.Storage;

/// <summary>Checks that every view store adapter makes on the rows it writes and the filters it reads with.</summary>
internal static class ViewBlockChecks
{
    /// <summary>
    /// Returns a check of one row of <paramref name="aggregation"/> in a bucket: its key length and
    /// the type of each output. A failed check throws <see cref="ArgumentException"/> naming
    /// <paramref name="parameterName"/>.
    /// </summary>
    public static Action<long, AggregationKey, AggregateRow> RowValidator(AggregationDefinition aggregation, string parameterName)
    {
        var outputTypes = aggregation.Outputs.Select(output => output.CreateAccumulator().GetType()).ToArray();
        return (bucket, key, row) =>
        {
            if (key.Count != aggregation.Key.Count)
            {
                throw new ArgumentException(
                    $"A row of aggregation '{aggregation.Name}' in bucket {bucket} has a key of {key.Count} values, but the aggregation key has {aggregation.Key.Count} fields.",
                    parameterName);
            }

            if (row.Outputs.Count != outputTypes.Length)
            {
                throw new ArgumentException(
                    $"The row with key '{key}' of aggregation '{aggregation.Name}' in bucket {bucket} has {row.Outputs.Count} outputs, but the aggregation has {outputTypes.Length}.",
                    parameterName);
            }

            for (var i = 0; i < outputTypes.Length; i++)
            {
                if (row.Outputs[i].GetType() != outputTypes[i])
                {
                    throw new ArgumentException(
                        $"Output {i} of the row with key '{key}' of aggregation '{aggregation.Name}' in bucket {bucket} is a {row.Outputs[i].GetType().Name}, but the aggregation expects a {outputTypes[i].Name}.",
                        parameterName);
                }
            }
        };
    }

    /// <summary>
    /// Checks the key positions of <paramref name="filter"/> and returns whether a read of
    /// [<paramref name="from"/>, <paramref name="to"/>) can match any row, with the conditions
    /// after the hub encoded for <see cref="ViewBlockCodec.Read"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A condition names a key position that the aggregation does not have.</exception>
    public static bool TryPrepareRead(AggregationDefinition aggregation, KeyFilter filter, long from, long to, out KeyConditionBytes[]? conditions)
    {
        conditions = null;
        foreach (var condition in filter.Others)
        {
            if (condition.Index < 0 || condition.Index >= aggregation.Key.Count)
            {
                throw new ArgumentOutOfRangeException(
                    nameof(filter),
                    condition.Index,
                    $"The filter names key position {condition.Index}, but aggregation '{aggregation.Name}' has {aggregation.Key.Count} key fields.");
            }
        }

        // A condition on position 0 repeats the hub: it matches all of the hub's rows or none.
        if (to <= from || filter.Others.Any(condition => condition.Index == 0 && !string.Equals(condition.Value, filter.HubId, StringComparison.Ordinal)))
        {
            return false;
        }

        conditions = ViewBlockCodec.EncodeConditions(new KeyFilter(filter.HubId, filter.Others.Where(condition => condition.Index > 0).ToArray()));
        return true;
    }
}
