using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.View.Contracts;

namespace LambdaStats.Modules.View.Cache;

/// <summary>
/// The stored rows of one hub in one hourly or daily view bucket, decoded once and kept by column:
/// key ids from the hub's <see cref="HubKeyIndex"/>, and per output an array aligned with them.
/// </summary>
/// <remarks>
/// Immutable once built. The accumulators of <see cref="ColumnKind.Other"/> columns are shared
/// between readers, so readers clone them before changing anything.
/// </remarks>
internal sealed class HubBucket
{
    private readonly long[]?[] counts;
    private readonly double[]?[] sums;
    private readonly bool[]?[] flags;
    private readonly Accumulator[]?[] others;

    private HubBucket(HubKeyIndex index, ColumnKind[] kinds, int[] ids, long[]?[] counts, double[]?[] sums, bool[]?[] flags, Accumulator[]?[] others)
    {
        Index = index;
        Kinds = kinds;
        Ids = ids;
        this.counts = counts;
        this.sums = sums;
        this.flags = flags;
        this.others = others;
        MaxId = ids.Length == 0 ? -1 : ids.Max();
        ApproximateBytes = EstimateBytes(kinds, ids.Length);
    }

    /// <summary>The index that gave <see cref="Ids"/>.</summary>
    public HubKeyIndex Index { get; }

    public ColumnKind[] Kinds { get; }

    /// <summary>Key ids of the rows, one per row.</summary>
    public int[] Ids { get; }

    /// <summary>The largest id in <see cref="Ids"/>, or -1 when the bucket is empty.</summary>
    public int MaxId { get; }

    /// <summary>Managed memory held by the bucket, for the cache's budget; an estimate.</summary>
    public long ApproximateBytes { get; }

    /// <summary>Last use, on the cache's access counter; for eviction.</summary>
    public long LastUsed { get; set; }

    public long[] Counts(int output) => counts[output]!;

    public double[] Sums(int output) => sums[output]!;

    public bool[] Flags(int output) => flags[output]!;

    public Accumulator[] Others(int output) => others[output]!;

    /// <summary>Decodes stored rows of one hub into columns, giving new keys their ids.</summary>
    public static HubBucket Build(ColumnKind[] kinds, HubKeyIndex index, IReadOnlyList<KeyedRow> rows)
    {
        var keys = new AggregationKey[rows.Count];
        for (var i = 0; i < keys.Length; i++)
        {
            keys[i] = rows[i].Key;
        }

        var ids = index.GetOrAddAll(keys);
        var counts = new long[]?[kinds.Length];
        var sums = new double[]?[kinds.Length];
        var flags = new bool[]?[kinds.Length];
        var others = new Accumulator[]?[kinds.Length];
        for (var output = 0; output < kinds.Length; output++)
        {
            switch (kinds[output])
            {
                case ColumnKind.Count:
                    var countColumn = counts[output] = new long[rows.Count];
                    for (var i = 0; i < rows.Count; i++)
                    {
                        countColumn[i] = ((CountAccumulator)rows[i].Row.Outputs[output]).Value;
                    }

                    break;
                case ColumnKind.Sum:
                    var sumColumn = sums[output] = new double[rows.Count];
                    for (var i = 0; i < rows.Count; i++)
                    {
                        sumColumn[i] = ((AddAccumulator)rows[i].Row.Outputs[output]).Value;
                    }

                    break;
                case ColumnKind.Flag:
                    var flagColumn = flags[output] = new bool[rows.Count];
                    for (var i = 0; i < rows.Count; i++)
                    {
                        flagColumn[i] = ((ExistsAccumulator)rows[i].Row.Outputs[output]).Value;
                    }

                    break;
                default:
                    var otherColumn = others[output] = new Accumulator[rows.Count];
                    for (var i = 0; i < rows.Count; i++)
                    {
                        otherColumn[i] = rows[i].Row.Outputs[output];
                    }

                    break;
            }
        }

        return new HubBucket(index, kinds, ids, counts, sums, flags, others);
    }

    /// <summary>Returns a new row of <paramref name="definition"/> holding the state of row <paramref name="position"/>.</summary>
    public AggregateRow CreateRow(AggregationDefinition definition, int position)
    {
        var row = definition.CreateRow();
        for (var output = 0; output < Kinds.Length; output++)
        {
            var accumulator = row.Outputs[output];
            switch (Kinds[output])
            {
                case ColumnKind.Count:
                    ((CountAccumulator)accumulator).Restore(counts[output]![position]);
                    break;
                case ColumnKind.Sum:
                    ((AddAccumulator)accumulator).Restore(sums[output]![position]);
                    break;
                case ColumnKind.Flag:
                    ((ExistsAccumulator)accumulator).Restore(flags[output]![position]);

                    break;
                default:
                    accumulator.Merge(others[output]![position]);
                    break;
            }
        }

        return row;
    }

    private static long EstimateBytes(ColumnKind[] kinds, int rows)
    {
        // Arrays of ids and numbers, plus for object columns the accumulator itself; projections
        // and distinct sets can be larger, which the estimate does not follow.
        long perRow = sizeof(int);
        foreach (var kind in kinds)
        {
            perRow += kind switch
            {
                ColumnKind.Count or ColumnKind.Sum => 8,
                ColumnKind.Flag => 1,
                _ => 8 + 64,
            };
        }

        return 200 + (rows * perRow);
    }
}
