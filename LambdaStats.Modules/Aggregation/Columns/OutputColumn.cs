using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Events.Contracts;

namespace LambdaStats.Modules.Aggregation.Columns;

/// <summary>
/// The states of one output for every row of an hour buffer, indexed by row. Count and add keep
/// plain numbers, so a row costs 8 bytes per such output instead of an accumulator object.
/// projectionAdd (<see cref="ProjectionColumn"/>) and exact distinctCount over a string field
/// (<see cref="DistinctValuesColumn"/>) keep numbered pairs shared by the rows of the hour. The
/// other aggregators keep one accumulator per row that has an event they count.
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

    /// <summary>Closes and deletes the column's scratch file, if it has one, before its hour is dropped.</summary>
    public virtual void DeleteScratchFile()
    {
    }

    /// <summary>Unmaps the column's scratch file, if it has one, after a read of every row. The next read maps it again.</summary>
    public virtual void UnmapScratchFile()
    {
    }

    /// <param name="pool">Shares the group names of projectionAdd outputs and the values of exact distinctCount outputs between rows and hours.</param>
    /// <param name="scratch">Where projectionAdd and exact distinctCount columns move their pairs past a budget. Null keeps them in memory.</param>
    public static OutputColumn Create(OutputDefinition output, RowStringPool pool, PairScratch? scratch = null) => output.Aggregator switch
    {
        AggregatorKind.Count => new CountColumn(),
        AggregatorKind.Add => new SumColumn(output.Field!.Value),
        AggregatorKind.Exists => new ExistsColumn(),
        AggregatorKind.ProjectionAdd => new ProjectionColumn(output.GroupBy!.Value, output.Field, pool, scratch),
        AggregatorKind.DistinctCount when output.Mode == DistinctCountMode.Exact && !EventFields.IsNumeric(output.Field!.Value) =>
            new DistinctValuesColumn(output.Field.Value, pool, scratch),
        _ => new AccumulatorColumn(output),
    };

    /// <summary>
    /// The next size of a per-row array that is full: half as large again, so that a buffer of
    /// many rows keeps less spare room than with doubling.
    /// </summary>
    protected static int GrownSize(int length) => Math.Max(4, length + length / 2);

    /// <summary>
    /// The 64-bit key of a (row, number) pair: <c>(row + 1) &lt;&lt; 32 | number</c>. No key is 0,
    /// and the keys of a row's pairs form the half-open range from <c>PairKey(row, 0)</c>, included, to <c>PairKey(row + 1, 0)</c>, excluded.
    /// </summary>
    protected static long PairKey(int row, int number) => ((long)(row + 1) << 32) | (uint)number;

    /// <summary>A column that keeps one item per row in an array, grown by <see cref="GrownSize"/> when full.</summary>
    private abstract class ArrayColumn<T> : OutputColumn
    {
        protected T[] Items { get; private set; } = [];

        protected int Rows { get; private set; }

        public override void AddRow()
        {
            if (Rows == Items.Length)
            {
                var grown = Items;
                Array.Resize(ref grown, GrownSize(grown.Length));
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
}
