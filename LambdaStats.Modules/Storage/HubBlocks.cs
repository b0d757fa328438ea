using LambdaStats.Modules.Aggregation;

namespace LambdaStats.Modules.Storage;

/// <summary>Splits the rows of a bucket by hub, the unit of one stored block.</summary>
internal static class HubBlocks
{
    /// <summary>
    /// Returns the rows of each hub of <paramref name="rows"/>, calling <paramref name="validate"/>
    /// on each row as it is read.
    /// </summary>
    /// <remarks>
    /// When the rows of each hub come one after the other, as the batch gives them, it reads one
    /// hub's rows at a time, so rows made on demand never all exist at once. Otherwise it groups
    /// every row by hub first.
    /// </remarks>
    public static IEnumerable<(string Hub, List<KeyValuePair<AggregationKey, AggregateRow>> Rows)> GroupByHub(
        IReadOnlyDictionary<AggregationKey, AggregateRow> rows,
        Action<AggregationKey, AggregateRow> validate)
    {
        if (HubsComeInRuns(rows.Keys))
        {
            var hubRows = new List<KeyValuePair<AggregationKey, AggregateRow>>();
            foreach (var pair in rows)
            {
                validate(pair.Key, pair.Value);
                if (hubRows.Count > 0 && !string.Equals(hubRows[0].Key[0], pair.Key[0], StringComparison.Ordinal))
                {
                    yield return (hubRows[0].Key[0], hubRows);
                    hubRows = [];
                }

                hubRows.Add(pair);
            }

            if (hubRows.Count > 0)
            {
                yield return (hubRows[0].Key[0], hubRows);
            }

            yield break;
        }

        var hubs = new Dictionary<string, List<KeyValuePair<AggregationKey, AggregateRow>>>(StringComparer.Ordinal);
        foreach (var pair in rows)
        {
            validate(pair.Key, pair.Value);
            if (!hubs.TryGetValue(pair.Key[0], out var hubRows))
            {
                hubRows = [];
                hubs.Add(pair.Key[0], hubRows);
            }

            hubRows.Add(pair);
        }

        foreach (var (hub, hubRows) in hubs)
        {
            yield return (hub, hubRows);
        }
    }

    /// <summary>Whether all keys of each hub come one after the other in <paramref name="keys"/>.</summary>
    private static bool HubsComeInRuns(IEnumerable<AggregationKey> keys)
    {
        var ended = new HashSet<string>(StringComparer.Ordinal);
        string? current = null;
        foreach (var key in keys)
        {
            var hub = key.Count > 0 ? key[0] : string.Empty;
            if (string.Equals(hub, current, StringComparison.Ordinal))
            {
                continue;
            }

            if ((current is not null && !ended.Add(current)) || ended.Contains(hub))
            {
                return false;
            }

            current = hub;
        }

        return true;
    }
}
