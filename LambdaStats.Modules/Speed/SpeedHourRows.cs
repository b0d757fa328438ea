using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Aggregation.Columns;

namespace LambdaStats.Modules.Speed;

/// <summary>The speed layer's rows of one hour, copied one hub at a time for <see cref="DivergenceCheck"/>.</summary>
internal interface ISpeedHourRows
{
    /// <summary>Adds copies of the rows of <paramref name="hubId"/> to <paramref name="destination"/>.</summary>
    void CopyHub(string hubId, Dictionary<AggregationKey, AggregateRow> destination);

    /// <summary>
    /// Adds copies of the rows whose hub is not in <paramref name="hubIds"/>, and is in the slice
    /// of <paramref name="containsHub"/> when one is given, to <paramref name="destination"/>.
    /// Called once, after <see cref="CopyHub"/> for each hub of <paramref name="hubIds"/>.
    /// </summary>
    void CopyOtherHubs(IReadOnlySet<string> hubIds, Func<string, bool>? containsHub, Dictionary<AggregationKey, AggregateRow> destination);
}

/// <summary>The rows of one hour spread over the sealed segments of a speed buffer, merged key by key.</summary>
/// <param name="segments">One function per segment that contains rows of the hour.</param>
/// <param name="hubsOf">Per segment, in the same order, a function that returns the hubs of the hour's keys.</param>
internal sealed class SegmentedHourRows(IReadOnlyList<SegmentedHourRows.MergeInto> segments, IReadOnlyList<Func<string[]>> hubsOf) : ISpeedHourRows
{
    // Per segment: rows copied by CopyHub so far, and the rows the segment holds for the hour
    // (-1 until a first copy returned it).
    private readonly int[] copied = new int[segments.Count];
    private readonly int[] hourRowCounts = Enumerable.Repeat(-1, segments.Count).ToArray();

    /// <summary>
    /// Adds copies of one segment's rows of the hour that match <paramref name="filter"/>, or of
    /// every row when it is null, to <paramref name="destination"/>. A copy of a key already there
    /// is merged into its row.
    /// </summary>
    /// <returns>The rows copied, and the rows that the segment holds for the hour.</returns>
    public delegate (int Copied, int HourRowCount) MergeInto(KeyFilter? filter, Dictionary<AggregationKey, AggregateRow> destination);

    public void CopyHub(string hubId, Dictionary<AggregationKey, AggregateRow> destination)
    {
        var filter = new KeyFilter(hubId);
        for (var i = 0; i < segments.Count; i++)
        {
            var (rowsCopied, hourRowCount) = segments[i](filter, destination);
            copied[i] += rowsCopied;
            hourRowCounts[i] = hourRowCount;
        }
    }

    /// <remarks>
    /// Without a slice, copies a whole segment's hour only when the hubs already copied from it
    /// contain fewer rows than the hour, which happens only when the speed layer has keys that the
    /// batch has not. With a slice, it lists each segment's hubs and copies those of the slice
    /// that <paramref name="hubIds"/> lacks, one hub at a time.
    /// </remarks>
    public void CopyOtherHubs(IReadOnlySet<string> hubIds, Func<string, bool>? containsHub, Dictionary<AggregationKey, AggregateRow> destination)
    {
        if (containsHub is not null)
        {
            for (var i = 0; i < segments.Count; i++)
            {
                foreach (var hubId in hubsOf[i]())
                {
                    if (containsHub(hubId) && !hubIds.Contains(hubId))
                    {
                        segments[i](new KeyFilter(hubId), destination);
                    }
                }
            }

            return;
        }

        for (var i = 0; i < segments.Count; i++)
        {
            if (hourRowCounts[i] >= 0 && copied[i] == hourRowCounts[i])
            {
                continue;
            }

            var rows = new Dictionary<AggregationKey, AggregateRow>();
            segments[i](null, rows);
            foreach (var (key, row) in rows)
            {
                if (hubIds.Contains(key[0]))
                {
                    continue;
                }

                if (destination.TryGetValue(key, out var merged))
                {
                    merged.Merge(row);
                }
                else
                {
                    destination.Add(key, row);
                }
            }
        }
    }
}
