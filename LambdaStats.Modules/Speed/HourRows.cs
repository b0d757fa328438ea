using System.Runtime.InteropServices;
using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Events.Contracts;

namespace LambdaStats.Modules.Speed;

/// <summary>
/// The rows of one aggregation in one hour of one segment: a row number per key, and the states
/// of each output in a column indexed by row number.
/// </summary>
/// <remarks>
/// Rows are never removed, so the dictionary enumerates keys in the order their rows were added.
/// Not thread-safe; the speed buffer's lock covers every call.
/// </remarks>
internal sealed class HourRows
{
    private readonly Dictionary<KeyIds, int> rowByKey = [];
    private readonly OutputColumn[] columns;

    public HourRows(AggregationDefinition definition)
    {
        columns = new OutputColumn[definition.Outputs.Count];
        for (var i = 0; i < columns.Length; i++)
        {
            columns[i] = OutputColumn.Create(definition.Outputs[i]);
        }
    }

    public int Count => rowByKey.Count;

    /// <summary>The key and row number of every row, in the order the rows were added.</summary>
    public Dictionary<KeyIds, int>.Enumerator GetEnumerator() => rowByKey.GetEnumerator();

    /// <summary>Adds <paramref name="e"/> to the row of <paramref name="key"/>; returns true when that row is new.</summary>
    public bool Add(KeyIds key, LambdaEvent e)
    {
        ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(rowByKey, key, out var exists);
        if (!exists)
        {
            slot = rowByKey.Count - 1;
            foreach (var column in columns)
            {
                column.AddRow();
            }
        }

        var row = slot;
        foreach (var column in columns)
        {
            column.Add(row, e);
        }

        return !exists;
    }

    /// <summary>Returns a new row with the states of row <paramref name="row"/>; the caller owns it.</summary>
    public AggregateRow ToAggregateRow(int row)
    {
        var accumulators = new Accumulator[columns.Length];
        for (var i = 0; i < accumulators.Length; i++)
        {
            accumulators[i] = columns[i].ToAccumulator(row);
        }

        return new AggregateRow(accumulators);
    }
}
