using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Events.Contracts;

namespace LambdaStats.Modules.Speed;

/// <summary>
/// The states of one output for every row of an hour buffer, indexed by row. Count and add keep
/// plain numbers, so a row costs 8 bytes per such output instead of an accumulator object, and
/// projectionAdd keeps a short array of group sums. The other aggregators keep one accumulator
/// per row that has an event they count.
/// </summary>
/// <remarks>
/// Each column applies to its numbers exactly what the output's accumulator does, in the same
/// order, so <see cref="ToAccumulator"/> returns the state that accumulator would hold.
/// </remarks>
internal abstract class OutputColumn
{
    /// <summary>Appends a row in the identity state; rows are numbered from 0 in order.</summary>
    public abstract void AddRow();

    public abstract void Add(int row, LambdaEvent e);

    /// <summary>Returns a new accumulator holding the state of <paramref name="row"/>.</summary>
    public abstract Accumulator ToAccumulator(int row);

    /// <summary>Releases the column's uses of pooled strings, before its hour is dropped.</summary>
    public virtual void ReleaseStrings()
    {
    }

    /// <param name="pool">Shares the group names of projectionAdd outputs between rows and hours.</param>
    public static OutputColumn Create(OutputDefinition output, RowStringPool pool) => output.Aggregator switch
    {
        AggregatorKind.Count => new CountColumn(),
        AggregatorKind.Add => new SumColumn(output.Field!.Value),
        AggregatorKind.Exists => new ExistsColumn(),
        AggregatorKind.ProjectionAdd => new ProjectionColumn(output.GroupBy!.Value, output.Field, pool),
        _ => new AccumulatorColumn(output),
    };

    /// <summary>A column that keeps one item per row in an array, doubled when full.</summary>
    private abstract class ArrayColumn<T> : OutputColumn
    {
        protected T[] Items { get; private set; } = [];

        protected int Rows { get; private set; }

        public override void AddRow()
        {
            if (Rows == Items.Length)
            {
                var grown = Items;
                Array.Resize(ref grown, Math.Max(4, grown.Length * 2));
                Items = grown;
            }

            Rows++;
        }
    }

    private sealed class CountColumn : ArrayColumn<long>
    {
        public override void Add(int row, LambdaEvent e) => Items[row]++;

        public override Accumulator ToAccumulator(int row) => CountAccumulator.FromValue(Items[row]);
    }

    private sealed class SumColumn(EventField field) : ArrayColumn<double>
    {
        public override void Add(int row, LambdaEvent e)
        {
            if (EventFields.GetNumber(e, field) is { } number)
            {
                Items[row] += number;
            }
        }

        public override Accumulator ToAccumulator(int row) => AddAccumulator.FromValue(field, Items[row]);
    }

    /// <summary>
    /// Stores nothing: a row exists only once an event was added to it, and one event sets
    /// <c>exists</c>, so every row's state is true.
    /// </summary>
    private sealed class ExistsColumn : OutputColumn
    {
        public override void AddRow()
        {
        }

        public override void Add(int row, LambdaEvent e)
        {
        }

        public override Accumulator ToAccumulator(int row) => ExistsAccumulator.FromValue(true);
    }

    /// <summary>
    /// One accumulator per row, created by the row's first event that carries the output's field:
    /// min, max and distinctCount ignore events without it, so a row whose events all lack it
    /// keeps no object.
    /// </summary>
    private sealed class AccumulatorColumn(OutputDefinition output) : ArrayColumn<Accumulator?>
    {
        private readonly EventField? ignoredWhenMissing =
            output.Aggregator is AggregatorKind.Min or AggregatorKind.Max or AggregatorKind.DistinctCount ? output.Field : null;

        public override void Add(int row, LambdaEvent e)
        {
            if (ignoredWhenMissing is { } field && !Carries(e, field))
            {
                return;
            }

            (Items[row] ??= output.CreateAccumulator()).Add(e);
        }

        public override Accumulator ToAccumulator(int row) => Items[row]?.Clone() ?? output.CreateAccumulator();

        private static bool Carries(LambdaEvent e, EventField field) =>
            EventFields.IsNumeric(field) ? EventFields.GetNumber(e, field) is not null : EventFields.GetString(e, field) is not null;
    }

    /// <summary>
    /// The group sums of a projectionAdd output. A row keeps its groups in an array of exactly
    /// their number, searched linearly, until it has more than <see cref="MaxArrayGroups"/>;
    /// then in a dictionary. Both keep the groups in the order of their first event, as the
    /// accumulator's dictionary does, and each sum starts at 0 and adds the amounts in event
    /// order, so <see cref="ToAccumulator"/> returns the accumulator's state bit for bit.
    /// </summary>
    private sealed class ProjectionColumn(EventField groupBy, EventField? field, RowStringPool pool) : ArrayColumn<object>
    {
        private const int MaxArrayGroups = 8;

        public override void AddRow()
        {
            base.AddRow();
            Items[Rows - 1] = Array.Empty<GroupSum>();
        }

        public override void Add(int row, LambdaEvent e)
        {
            if (ProjectionAddAccumulator.TryReadGroup(e, groupBy, field, out var group, out var amount))
            {
                SumOf(row, group) += amount;
            }
        }

        public override Accumulator ToAccumulator(int row)
        {
            var accumulator = new ProjectionAddAccumulator(groupBy, field);
            if (Items[row] is GroupSum[] sums)
            {
                foreach (var sum in sums)
                {
                    accumulator.AddToGroup(sum.Group, sum.Sum);
                }
            }
            else
            {
                foreach (var (group, sum) in (Dictionary<string, double>)Items[row])
                {
                    accumulator.AddToGroup(group, sum);
                }
            }

            return accumulator;
        }

        public override void ReleaseStrings()
        {
            for (var row = 0; row < Rows; row++)
            {
                if (Items[row] is GroupSum[] sums)
                {
                    foreach (var sum in sums)
                    {
                        pool.Release(sum.Group);
                    }
                }
                else
                {
                    foreach (var group in ((Dictionary<string, double>)Items[row]).Keys)
                    {
                        pool.Release(group);
                    }
                }
            }
        }

        private ref double SumOf(int row, string group)
        {
            if (Items[row] is GroupSum[] sums)
            {
                for (var i = 0; i < sums.Length; i++)
                {
                    if (ReferenceEquals(sums[i].Group, group) || string.Equals(sums[i].Group, group, StringComparison.Ordinal))
                    {
                        return ref sums[i].Sum;
                    }
                }

                if (sums.Length < MaxArrayGroups)
                {
                    Array.Resize(ref sums, sums.Length + 1);
                    sums[^1] = new GroupSum(pool.Acquire(group));
                    Items[row] = sums;
                    return ref sums[^1].Sum;
                }

                var grown = new Dictionary<string, double>(sums.Length * 2, StringComparer.Ordinal);
                foreach (var sum in sums)
                {
                    grown.Add(sum.Group, sum.Sum);
                }

                Items[row] = grown;
            }

            var groups = (Dictionary<string, double>)Items[row];
            ref var slot = ref CollectionsMarshal.GetValueRefOrNullRef(groups, group);
            if (Unsafe.IsNullRef(ref slot))
            {
                groups.Add(pool.Acquire(group), 0);
                slot = ref CollectionsMarshal.GetValueRefOrNullRef(groups, group);
            }

            return ref slot;
        }

        private struct GroupSum(string group)
        {
            public readonly string Group = group;

            public double Sum;
        }
    }
}
