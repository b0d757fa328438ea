using LambdaStats.Modules.Aggregation;

namespace LambdaStats.Modules.View.Cache;

/// <summary>
/// The totals of one series point over the keys that match a filter, added straight from cached
/// buckets and loose rows without merging them by key first.
/// </summary>
/// <remarks>
/// Every output's total is a sum or a merge of the rows' states, so the order and grouping of rows
/// does not matter. The exception is exists, whose total counts keys. A key set in two hours of the
/// point counts once, because a flag per key id records it. Not thread-safe: one instance serves
/// one point.
/// </remarks>
internal sealed class BucketTotals
{
    private readonly ColumnKind[] kinds;
    private readonly HubKeyIndex index;
    private readonly KeyFilter filter;
    private readonly bool[]?[] seen;

    public BucketTotals(AggregationDefinition definition, ColumnKind[] kinds, HubKeyIndex index, KeyFilter filter)
    {
        this.kinds = kinds;
        this.index = index;
        this.filter = filter;
        Total = definition.CreateTotalRow();
        seen = new bool[]?[kinds.Length];
        for (var output = 0; output < kinds.Length; output++)
        {
            if (kinds[output] == ColumnKind.Flag)
            {
                seen[output] = new bool[Math.Max(16, index.Count)];
            }
        }
    }

    /// <summary>The totals so far, in the form <see cref="AggregationDefinition.CreateTotalRow"/> gives.</summary>
    public AggregateRow Total { get; }

    /// <summary>Adds the rows of a cached bucket of the filter's hub.</summary>
    public void Add(HubBucket bucket)
    {
        var ids = bucket.Ids;
        if (ids.Length == 0)
        {
            return;
        }

        // Buckets hold one hub's rows, so only conditions on other key fields need a check.
        bool[]? matches = null;
        if (filter.Others.Count > 0)
        {
            var keys = index.Keys;
            matches = new bool[ids.Length];
            for (var position = 0; position < ids.Length; position++)
            {
                matches[position] = filter.Matches(keys[ids[position]]);
            }
        }

        EnsureSeen(bucket.MaxId + 1);
        for (var output = 0; output < kinds.Length; output++)
        {
            var total = Total.Outputs[output];
            switch (kinds[output])
            {
                case ColumnKind.Count:
                    var counts = bucket.Counts(output);
                    long count = 0;
                    for (var position = 0; position < ids.Length; position++)
                    {
                        count += matches is null || matches[position] ? counts[position] : 0;
                    }

                    ((CountAccumulator)total).AddCount(count);
                    break;
                case ColumnKind.Sum:
                    var sums = bucket.Sums(output);
                    var sum = 0.0;
                    for (var position = 0; position < ids.Length; position++)
                    {
                        sum += matches is null || matches[position] ? sums[position] : 0;
                    }

                    ((AddAccumulator)total).AddAmount(sum);
                    break;
                case ColumnKind.Flag:
                    var flags = bucket.Flags(output);
                    var keysSeen = seen[output]!;
                    long newlySet = 0;
                    for (var position = 0; position < ids.Length; position++)
                    {
                        if (flags[position] && (matches is null || matches[position]) && !keysSeen[ids[position]])
                        {
                            keysSeen[ids[position]] = true;
                            newlySet++;
                        }
                    }

                    ((CountAccumulator)total).AddCount(newlySet);
                    break;
                default:
                    var others = bucket.Others(output);
                    for (var position = 0; position < ids.Length; position++)
                    {
                        if (matches is null || matches[position])
                        {
                            others[position].AddToTotal(total);
                        }
                    }

                    break;
            }
        }
    }

    /// <summary>Adds one row from the speed layer or the event store; the row is not kept or changed.</summary>
    public void Add(in AggregationKey key, AggregateRow row)
    {
        if (!filter.Matches(key))
        {
            return;
        }

        for (var output = 0; output < kinds.Length; output++)
        {
            var accumulator = row.Outputs[output];
            if (kinds[output] != ColumnKind.Flag)
            {
                accumulator.AddToTotal(Total.Outputs[output]);
                continue;
            }

            if (!((ExistsAccumulator)accumulator).Value)
            {
                continue;
            }

            var id = index.GetOrAdd(key);
            EnsureSeen(id + 1);
            ref var keySeen = ref seen[output]![id];
            if (!keySeen)
            {
                keySeen = true;
                ((CountAccumulator)Total.Outputs[output]).AddCount(1);
            }
        }
    }

    private void EnsureSeen(int needed)
    {
        for (var output = 0; output < kinds.Length; output++)
        {
            if (seen[output] is { } flags && flags.Length < needed)
            {
                Array.Resize(ref seen[output], Math.Max(needed, flags.Length * 2));
            }
        }
    }
}
