using System.Runtime.InteropServices;
using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Events.Contracts;

namespace LambdaStats.Modules.Aggregation.Columns;

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
/// <para>
/// With a <see cref="PairScratch"/>, the column moves its pairs to a scratch file once it has
/// <see cref="PairScratch.PairsInMemory"/> of them, and appends a record there for every later
/// event. It then keeps in memory the value numbering, 4 bytes per row, a 64 KiB write buffer and a 64 KiB cache of
/// the last pairs appended. The file may hold a pair several times: a read drops the repeats, and
/// rewrites a row whose records are mostly repeats.
/// </para>
/// </remarks>
internal sealed class DistinctValuesColumn(EventField field, RowStringPool pool, PairScratch? scratch = null) : OutputColumn
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

    private long pairCount;

    // Set once the pairs moved to the scratch file. The arrays above are then empty.
    private SpilledPairs? spilled;

    // Set when a spill failed: the column keeps its pairs in memory for the rest of its hour.
    private bool spillFailed;

    /// <summary>Number of (row, value) pairs, in memory or in the scratch file; for tests.</summary>
    /// <remarks>Once the pairs are in the scratch file, this reads every row.</remarks>
    internal long PairCount => spilled is { } pairs ? Enumerable.Range(0, rows).Sum(row => (long)pairs.ReadValues(row).Length) : pairCount;

    /// <summary>Whether the pairs moved to a scratch file; for tests.</summary>
    internal bool IsSpilled => spilled is not null;

    /// <summary>Number of records in the scratch file, 0 before the spill; for tests.</summary>
    internal long ScratchRecordCount => spilled?.RecordCount ?? 0;

    public override void AddRow()
    {
        if (spilled is not null)
        {
            spilled.EnsureRows(rows + 1);
        }
        else if (rows == rowLast.Length)
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
        var key = PairKey(row, number);
        if (spilled is not null)
        {
            spilled.Add(row, number, key);
            return;
        }

        if (!TryAddKey(key))
        {
            return;
        }

        pairCount++;

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
        if (scratch is not null && !spillFailed && entries >= scratch.PairsInMemory)
        {
            Spill(scratch);
        }
    }

    public override Accumulator ToAccumulator(int row)
    {
        var accumulator = new ExactDistinctCountAccumulator(field);
        if (spilled is not null)
        {
            foreach (var number in spilled.ReadValues(row))
            {
                accumulator.RestoreValue(values[number]);
            }

            return accumulator;
        }

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

    public override void DeleteScratchFile()
    {
        spilled?.Dispose();
        spilled = null;
    }

    public override void UnmapScratchFile() => spilled?.Unmap();

    /// <summary>Moves every pair to a new scratch file, row by row, and frees the arrays.</summary>
    /// <remarks>When the file cannot be created or written, the pairs stay in memory and the failure is reported once.</remarks>
    private void Spill(PairScratch target)
    {
        // The arrays change only once the file has every pair, so they stay usable if the spill fails.
        SpilledPairs? pairs = null;
        try
        {
            pairs = new SpilledPairs(target.Create(withAmounts: false), rows);
            for (var row = 0; row < rows; row++)
            {
                for (var entry = rowLast[row]; entry != 0; entry = entryNext[entry - 1])
                {
                    var number = entryValue[entry - 1];
                    pairs.Add(row, number, PairKey(row, number));
                }
            }
        }
        catch (Exception exception) when (exception is InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            pairs?.Dispose();
            spillFailed = true;
            target.ReportSpillFailure(exception, pairCount);
            return;
        }

        spilled = pairs;
        set = [];
        entryValue = [];
        entryNext = [];
        rowLast = [];
        entries = 0;
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

    /// <summary>The pairs of the column as records of a scratch file, one per event that was not a recent repeat.</summary>
    private sealed class SpilledPairs : IDisposable
    {
        // Slots of the cache of recently appended keys: 64 KiB per column, and a power of two for SlotOf.
        private const int RecentSlots = 8192;

        private readonly PairRecordFile file;

        // Keys appended to the file, at most one per slot. A key found here is already in the file, so it is not appended again.
        private readonly long[] recent = new long[RecentSlots];
        private readonly HashSet<int> seen = [];
        private readonly List<int> distinct = [];

        public SpilledPairs(PairRecordFile file, int rows)
        {
            this.file = file;
            file.EnsureRows(rows);
        }

        public long RecordCount => file.RecordCount;

        public void EnsureRows(int rows) => file.EnsureRows(rows);

        public void Unmap() => file.Unmap();

        /// <summary>Appends the pair of <paramref name="key"/> unless the cache shows it is in the file already.</summary>
        public void Add(int row, int number, long key)
        {
            ref var slot = ref recent[SlotOf(key, RecentSlots - 1)];
            if (slot == key)
            {
                return;
            }

            file.Append(row, number);
            slot = key;
        }

        /// <summary>Reads the distinct value numbers of <paramref name="row"/> and returns them, valid until the next call.</summary>
        /// <remarks>
        /// A row whose records are more than twice its values, plus 16, gets a new chain of one record
        /// per value, so the next read of a row with many repeats reads only its values and the events since.
        /// </remarks>
        public ReadOnlySpan<int> ReadValues(int row)
        {
            file.ReadRow(row);
            var numbers = file.RowNumbers;
            seen.Clear();
            distinct.Clear();
            foreach (var number in numbers)
            {
                if (seen.Add(number))
                {
                    distinct.Add(number);
                }
            }

            if (numbers.Length > (2 * distinct.Count) + 16)
            {
                file.RewriteRow(row, CollectionsMarshal.AsSpan(distinct), []);
            }

            return CollectionsMarshal.AsSpan(distinct);
        }

        public void Dispose() => file.Dispose();
    }
}
