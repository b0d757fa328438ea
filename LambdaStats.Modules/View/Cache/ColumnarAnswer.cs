using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.View.Contracts;

namespace LambdaStats.Modules.View.Cache;

/// <summary>
/// Merges the rows of one period by key id, one array per output, and reduces them to totals and
/// groups. Adding a cached bucket is a loop over arrays; rows from the speed layer or the event
/// store are looked up by key once each.
/// </summary>
/// <remarks>Not thread-safe; one instance serves one query.</remarks>
internal sealed class ColumnarAnswer
{
    private readonly AggregationDefinition definition;
    private readonly ColumnKind[] kinds;
    private readonly HubKeyIndex index;
    private readonly long[]?[] counts;
    private readonly double[]?[] sums;
    private readonly bool[]?[] flags;
    private readonly Accumulator?[]?[] others;

    // Whether this instance owns the accumulator in a slot of others. A slot it does not own is
    // shared with a ViewPrefix and is cloned before its first change.
    private readonly bool[]?[] owned;
    private bool[] present;
    private int capacity;

    public ColumnarAnswer(AggregationDefinition definition, ColumnKind[] kinds, HubKeyIndex index)
    {
        this.definition = definition;
        this.kinds = kinds;
        this.index = index;
        counts = new long[]?[kinds.Length];
        sums = new double[]?[kinds.Length];
        flags = new bool[]?[kinds.Length];
        others = new Accumulator?[]?[kinds.Length];
        owned = new bool[]?[kinds.Length];
        present = [];
        for (var output = 0; output < kinds.Length; output++)
        {
            switch (kinds[output])
            {
                case ColumnKind.Count:
                    counts[output] = [];
                    break;
                case ColumnKind.Sum:
                    sums[output] = [];
                    break;
                case ColumnKind.Flag:
                    flags[output] = [];
                    break;
                default:
                    others[output] = [];
                    owned[output] = [];
                    break;
            }
        }

        EnsureCapacity(index.Count);
    }

    /// <summary>
    /// Adds the buckets of the views, starting from <paramref name="prefix"/> when the buckets
    /// begin with its buckets. Call it first, on an empty instance. Returns the prefix that covers all
    /// of <paramref name="buckets"/> (the given one when nothing was added), or null when there are
    /// none.
    /// </summary>
    public ViewPrefix? AddViews(IReadOnlyList<HubBucket> buckets, ViewPrefix? prefix)
    {
        var start = 0;
        if (prefix is not null && prefix.IsPrefixOf(buckets))
        {
            Load(prefix);
            start = prefix.Buckets.Length;
        }

        for (var i = start; i < buckets.Count; i++)
        {
            Add(buckets[i]);
        }

        if (buckets.Count == 0)
        {
            return null;
        }

        return start == buckets.Count ? prefix : Capture(buckets);
    }

    /// <summary>Adds every row of a cached bucket.</summary>
    public void Add(HubBucket bucket)
    {
        var ids = bucket.Ids;
        if (ids.Length == 0)
        {
            return;
        }

        EnsureCapacity(bucket.MaxId + 1);
        foreach (var id in ids)
        {
            present[id] = true;
        }

        for (var output = 0; output < kinds.Length; output++)
        {
            switch (kinds[output])
            {
                case ColumnKind.Count:
                    var countSource = bucket.Counts(output);
                    var countTarget = counts[output]!;
                    for (var i = 0; i < ids.Length; i++)
                    {
                        countTarget[ids[i]] += countSource[i];
                    }

                    break;
                case ColumnKind.Sum:
                    var sumSource = bucket.Sums(output);
                    var sumTarget = sums[output]!;
                    for (var i = 0; i < ids.Length; i++)
                    {
                        sumTarget[ids[i]] += sumSource[i];
                    }

                    break;
                case ColumnKind.Flag:
                    var flagSource = bucket.Flags(output);
                    var flagTarget = flags[output]!;
                    for (var i = 0; i < ids.Length; i++)
                    {
                        flagTarget[ids[i]] |= flagSource[i];
                    }

                    break;
                default:
                    var otherSource = bucket.Others(output);
                    for (var i = 0; i < ids.Length; i++)
                    {
                        MergeOther(output, ids[i], otherSource[i]);
                    }

                    break;
            }
        }
    }

    /// <summary>Adds one row that is not in the cache: from the speed layer or the event store. The row is not kept.</summary>
    public void Add(in AggregationKey key, AggregateRow row)
    {
        var id = index.GetOrAdd(key);
        EnsureCapacity(id + 1);
        present[id] = true;
        for (var output = 0; output < kinds.Length; output++)
        {
            var accumulator = row.Outputs[output];
            switch (kinds[output])
            {
                case ColumnKind.Count:
                    counts[output]![id] += ((CountAccumulator)accumulator).Value;
                    break;
                case ColumnKind.Sum:
                    sums[output]![id] += ((AddAccumulator)accumulator).Value;
                    break;
                case ColumnKind.Flag:
                    flags[output]![id] |= ((ExistsAccumulator)accumulator).Value;
                    break;
                default:
                    MergeOther(output, id, accumulator);
                    break;
            }
        }
    }

    /// <summary>
    /// Totals over the keys that match <paramref name="filter"/>, and the groups of
    /// <paramref name="groupIndex"/> (none when negative) sorted by the first output, descending,
    /// then by value, cut at <paramref name="limit"/>. The same reduction as the one over rows by key.
    /// </summary>
    public (AggregateRow Totals, List<GroupResult> Groups) Reduce(KeyFilter filter, int groupIndex, int limit)
    {
        var keys = index.Keys;
        var selected = Select(filter, keys);
        var totals = definition.CreateTotalRow();
        for (var output = 0; output < kinds.Length; output++)
        {
            AddToTotal(totals.Outputs[output], output, selected);
        }

        if (groupIndex < 0)
        {
            return (totals, []);
        }

        var field = EventFields.JsonName(definition.Key[groupIndex]);
        if (groupIndex > 0 && definition.Key.Count == 2)
        {
            // Keys are (hub, value) and the hub is fixed: every key is its own group.
            return (totals, TopKeys(selected, keys, groupIndex, field, limit));
        }

        return (totals, GroupsByValue(selected, keys, groupIndex, field, limit));
    }

    private List<int> Select(KeyFilter filter, AggregationKey[] keys)
    {
        var selected = new List<int>(capacity);
        for (var id = 0; id < capacity; id++)
        {
            if (present[id] && filter.Matches(keys[id]))
            {
                selected.Add(id);
            }
        }

        return selected;
    }

    private void AddToTotal(Accumulator total, int output, List<int> ids)
    {
        switch (kinds[output])
        {
            case ColumnKind.Count:
                var countColumn = counts[output]!;
                long count = 0;
                foreach (var id in ids)
                {
                    count += countColumn[id];
                }

                ((CountAccumulator)total).AddCount(count);
                break;
            case ColumnKind.Sum:
                var sumColumn = sums[output]!;
                var sum = 0.0;
                foreach (var id in ids)
                {
                    sum += sumColumn[id];
                }

                ((AddAccumulator)total).AddAmount(sum);
                break;
            case ColumnKind.Flag:
                // The total of an exists output is the number of keys where it is set.
                var flagColumn = flags[output]!;
                long set = 0;
                foreach (var id in ids)
                {
                    set += flagColumn[id] ? 1 : 0;
                }

                ((CountAccumulator)total).AddCount(set);
                break;
            default:
                var otherColumn = others[output]!;
                foreach (var id in ids)
                {
                    otherColumn[id]?.AddToTotal(total);
                }

                break;
        }
    }

    private List<GroupResult> TopKeys(List<int> selected, AggregationKey[] keys, int groupIndex, string field, int limit)
    {
        var best = new PriorityQueue<int, (double Sort, string Value)>(WorstFirst.Instance);
        foreach (var id in selected)
        {
            var candidate = (SortValue(id), keys[id][groupIndex]);
            if (best.Count < limit)
            {
                best.Enqueue(id, candidate);
            }
            else if (best.TryPeek(out _, out var worst) && WorstFirst.Instance.Compare(candidate, worst) > 0)
            {
                best.DequeueEnqueue(id, candidate);
            }
        }

        var groups = new List<GroupResult>(best.Count);
        while (best.TryDequeue(out var id, out _))
        {
            groups.Add(new GroupResult(field, keys[id][groupIndex], TotalOf([id])));
        }

        groups.Reverse();
        return groups;
    }

    private List<GroupResult> GroupsByValue(List<int> selected, AggregationKey[] keys, int groupIndex, string field, int limit)
    {
        var members = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        foreach (var id in selected)
        {
            var value = keys[id][groupIndex];
            if (!members.TryGetValue(value, out var list))
            {
                list = [];
                members.Add(value, list);
            }

            list.Add(id);
        }

        return members
            .Select(pair => (Value: pair.Key, Totals: TotalOf(pair.Value)))
            .OrderByDescending(group => group.Totals.Outputs[0].SortValue)
            .ThenBy(group => group.Value, StringComparer.Ordinal)
            .Take(limit)
            .Select(group => new GroupResult(field, group.Value, group.Totals))
            .ToList();
    }

    private AggregateRow TotalOf(List<int> ids)
    {
        var total = definition.CreateTotalRow();
        for (var output = 0; output < kinds.Length; output++)
        {
            AddToTotal(total.Outputs[output], output, ids);
        }

        return total;
    }

    /// <summary>The first output's sort value for one key, as <see cref="Accumulator.SortValue"/> gives it.</summary>
    private double SortValue(int id) => kinds[0] switch
    {
        ColumnKind.Count => counts[0]![id],
        ColumnKind.Sum => sums[0]![id],
        ColumnKind.Flag => flags[0]![id] ? 1 : 0,
        _ => others[0]![id]?.SortValue ?? 0,
    };

    private void MergeOther(int output, int id, Accumulator source)
    {
        ref var target = ref others[output]![id];
        ref var isOwned = ref owned[output]![id];
        if (target is null)
        {
            target = source.Clone();
            isOwned = true;
            return;
        }

        if (!isOwned)
        {
            target = target.Clone();
            isOwned = true;
        }

        target.Merge(source);
    }

    private void Load(ViewPrefix prefix)
    {
        EnsureCapacity(prefix.Present.Length);
        Array.Copy(prefix.Present, present, prefix.Present.Length);
        for (var output = 0; output < kinds.Length; output++)
        {
            switch (kinds[output])
            {
                case ColumnKind.Count:
                    Array.Copy(prefix.Counts[output]!, counts[output]!, prefix.Present.Length);
                    break;
                case ColumnKind.Sum:
                    Array.Copy(prefix.Sums[output]!, sums[output]!, prefix.Present.Length);
                    break;
                case ColumnKind.Flag:
                    Array.Copy(prefix.Flags[output]!, flags[output]!, prefix.Present.Length);
                    break;
                default:
                    // Shared with the prefix: owned stays false, so a change clones first.
                    Array.Copy(prefix.Others[output]!, others[output]!, prefix.Present.Length);
                    break;
            }
        }
    }

    /// <summary>Copies the merged columns into a new prefix; accumulators become shared with it.</summary>
    private ViewPrefix Capture(IReadOnlyList<HubBucket> buckets)
    {
        var length = capacity;
        var capturedCounts = new long[]?[kinds.Length];
        var capturedSums = new double[]?[kinds.Length];
        var capturedFlags = new bool[]?[kinds.Length];
        var capturedOthers = new Accumulator?[]?[kinds.Length];
        for (var output = 0; output < kinds.Length; output++)
        {
            switch (kinds[output])
            {
                case ColumnKind.Count:
                    capturedCounts[output] = counts[output]![..length];
                    break;
                case ColumnKind.Sum:
                    capturedSums[output] = sums[output]![..length];
                    break;
                case ColumnKind.Flag:
                    capturedFlags[output] = flags[output]![..length];
                    break;
                default:
                    capturedOthers[output] = others[output]![..length];
                    Array.Clear(owned[output]!);
                    break;
            }
        }

        return new ViewPrefix([.. buckets], present[..length], capturedCounts, capturedSums, capturedFlags, capturedOthers);
    }

    private void EnsureCapacity(int needed)
    {
        if (needed <= capacity)
        {
            return;
        }

        var size = Math.Max(needed, capacity * 2);
        Array.Resize(ref present, size);
        for (var output = 0; output < kinds.Length; output++)
        {
            switch (kinds[output])
            {
                case ColumnKind.Count:
                    Array.Resize(ref counts[output], size);
                    break;
                case ColumnKind.Sum:
                    Array.Resize(ref sums[output], size);
                    break;
                case ColumnKind.Flag:
                    Array.Resize(ref flags[output], size);
                    break;
                default:
                    Array.Resize(ref others[output], size);
                    Array.Resize(ref owned[output], size);
                    break;
            }
        }

        capacity = size;
    }

    /// <summary>Orders candidates so that the queue's head is the one to drop first: lowest sort value, then highest value text.</summary>
    private sealed class WorstFirst : IComparer<(double Sort, string Value)>
    {
        public static readonly WorstFirst Instance = new();

        public int Compare((double Sort, string Value) x, (double Sort, string Value) y)
        {
            var bySort = x.Sort.CompareTo(y.Sort);
            return bySort != 0 ? bySort : string.CompareOrdinal(y.Value, x.Value);
        }
    }
}
