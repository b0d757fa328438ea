using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Events.Contracts;

namespace LambdaStats.Modules.Speed;

/// <summary>
/// The states of one output for every row of an hour buffer, indexed by row. Count and add keep
/// plain numbers, so a row costs 8 bytes per such output instead of an accumulator object; the
/// other aggregators keep one accumulator per row.
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

    public static OutputColumn Create(OutputDefinition output) => output.Aggregator switch
    {
        AggregatorKind.Count => new CountColumn(),
        AggregatorKind.Add => new SumColumn(output.Field!.Value),
        AggregatorKind.Exists => new ExistsColumn(),
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

    private sealed class AccumulatorColumn(OutputDefinition output) : ArrayColumn<Accumulator>
    {
        public override void AddRow()
        {
            base.AddRow();
            Items[Rows - 1] = output.CreateAccumulator();
        }

        public override void Add(int row, LambdaEvent e) => Items[row].Add(e);

        public override Accumulator ToAccumulator(int row) => Items[row].Clone();
    }
}
