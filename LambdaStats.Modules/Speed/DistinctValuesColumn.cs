using System.Runtime.InteropServices;
using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Events.Contracts;

namespace LambdaStats.Modules.Speed;

/// <summary>
/// The values of an exact distinctCount over a string field, for every row of an hour buffer.
/// Each distinct value of the hour gets a number, and the column keeps one (row, value number)
/// pair per value of a row instead of a set of strings per row.
/// </summary>
/// <remarks>
/// The value numbers index <see cref="values"/>, which contains the pool's shared instance of each
/// string, acquired once per hour. The pairs sit in one open-addressing set of 64-bit keys, and
/// each row chains its pairs through <see cref="entryValue"/> and <see cref="entryNext"/> so that
/// <see cref="ToAccumulator"/> reads one row without scanning the set. A pair costs about
/// 8 bytes in the chain and 8 bytes per slot of the set, which stays between 3/8 and 3/4 full.
/// </remarks>
internal sealed class DistinctValuesColumn(EventField field, RowStringPool pool) : OutputColumn
{
    private const int FirstSetSize = 16;

    private readonly Dictionary<string, int> valueNumbers = new(StringComparer.Ordinal);
    private readonly List<string> values = [];

    // Per row: 1 + the index of its last pair in the chain arrays, or 0 when it has none.
    private int[] rowLast = [];
    private int rows;

    private int[] entryValue = [];
    private int[] entryNext = [];
    private int entries;

    // Keys (row + 1) << 32 | value number; 0 marks a free slot.
    private long[] set = [];

    /// <summary>Number of (row, value) pairs, read by tests.</summary>
    internal int PairCount => entries;

    public override void AddRow()
    {
        if (rows == rowLast.Length)
        {
            Array.Resize(ref rowLast, GrownSize(rows));
        }

        rows++;
    }

    public override void Add(int row, LambdaEvent e)
    {
        if (EventFields.GetString(e, field) is not { } value)
        {
            return;
        }

        var number = NumberOf(value);
        var key = ((long)(row + 1) << 32) | (uint)number;
        if (!TryAddKey(key))
        {
            return;
        }

        if (entries == entryValue.Length)
        {
            var size = GrownSize(entries);
            Array.Resize(ref entryValue, size);
            Array.Resize(ref entryNext, size);
        }

        entryValue[entries] = number;
        entryNext[entries] = rowLast[row];
        entries++;
        rowLast[row] = entries;
    }

    public override Accumulator ToAccumulator(int row)
    {
        var accumulator = new ExactDistinctCountAccumulator(field);
        for (var entry = rowLast[row]; entry != 0; entry = entryNext[entry - 1])
        {
            accumulator.RestoreValue(values[entryValue[entry - 1]]);
        }

        return accumulator;
    }

    public override void ReleaseStrings()
    {
        foreach (var value in values)
        {
            pool.Release(value);
        }
    }

    private int NumberOf(string value)
    {
        ref var number = ref CollectionsMarshal.GetValueRefOrNullRef(valueNumbers, value);
        if (!System.Runtime.CompilerServices.Unsafe.IsNullRef(ref number))
        {
            return number;
        }

        var shared = pool.Acquire(value);
        valueNumbers.Add(shared, values.Count);
        values.Add(shared);
        return values.Count - 1;
    }

    /// <summary>Adds <paramref name="key"/> to the set; returns false when it was there already.</summary>
    private bool TryAddKey(long key)
    {
        if ((entries + 1) * 4 > set.Length * 3)
        {
            Grow();
        }

        var mask = set.Length - 1;
        for (var slot = SlotOf(key, mask); ; slot = (slot + 1) & mask)
        {
            if (set[slot] == key)
            {
                return false;
            }

            if (set[slot] == 0)
            {
                set[slot] = key;
                return true;
            }
        }
    }

    private void Grow()
    {
        var old = set;
        set = new long[Math.Max(FirstSetSize, old.Length * 2)];
        var mask = set.Length - 1;
        foreach (var key in old)
        {
            if (key == 0)
            {
                continue;
            }

            var slot = SlotOf(key, mask);
            while (set[slot] != 0)
            {
                slot = (slot + 1) & mask;
            }

            set[slot] = key;
        }
    }

    // Fibonacci hashing: the multiplication spreads both the row and the value number over the high bits.
    private static int SlotOf(long key, int mask) => unchecked((int)(((ulong)key * 0x9E3779B97F4A7C15UL) >> 33)) & mask;
}
