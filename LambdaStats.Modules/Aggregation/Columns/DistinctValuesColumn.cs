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
/// <see cref="PairScratch.PairsInMemory"/> of them, and adds every later pair there. It then keeps
/// in memory only the value numbering. The file's table has the same 64-bit keys as its primary
/// key, so <c>INSERT OR IGNORE</c> finds whether a pair is new, and a row's values are one range
/// of keys.
/// </para>
/// </remarks>
internal sealed class DistinctValuesColumn(EventField field, RowStringPool pool, PairScratch? scratch = null) : OutputColumn
{
    private const int FirstSetSize = 16;
    private const string Schema = "CREATE TABLE pairs (k INTEGER PRIMARY KEY)";

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
    internal long PairCount => pairCount;

    /// <summary>Whether the pairs moved to a scratch file; for tests.</summary>
    internal bool IsSpilled => spilled is not null;

    public override void AddRow()
    {
        if (spilled is null && rows == rowLast.Length)
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
            if (spilled.TryAdd(key))
            {
                pairCount++;
            }

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
            spilled.ReadRow(row, number => accumulator.RestoreValue(values[number]));
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

    /// <summary>Moves every pair to a new scratch file, in key order, and frees the arrays.</summary>
    /// <remarks>When the file cannot be created or written, the pairs stay in memory and the failure is reported once.</remarks>
    private void Spill(PairScratch target)
    {
        // A sorted copy, so the set stays usable if the spill fails.
        var keys = set.Where(key => key != 0).Order().ToArray();
        SpilledPairs? pairs = null;
        try
        {
            pairs = new SpilledPairs(target.Create(Schema));
            foreach (var key in keys)
            {
                pairs.TryAdd(key);
            }
        }
        catch (Exception exception) when (exception is InvalidOperationException or IOException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException)
        {
            pairs?.Dispose();
            spillFailed = true;
            target.ReportSpillFailure(exception, keys.Length);
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

    /// <summary>The pairs of the column in a scratch file, under their 64-bit keys.</summary>
    private sealed class SpilledPairs : IDisposable
    {
        private readonly ScratchDatabase database;
        private readonly Storage.Sqlite.SqliteRawStatement insert;
        private readonly Storage.Sqlite.SqliteRawStatement readRow;

        public SpilledPairs(ScratchDatabase database)
        {
            this.database = database;
            insert = database.Prepare("INSERT OR IGNORE INTO pairs (k) VALUES (?1)");
            readRow = database.Prepare("SELECT k FROM pairs WHERE k >= ?1 AND k < ?2");
        }

        /// <summary>Adds <paramref name="key"/>, and returns false when it was there already.</summary>
        public bool TryAdd(long key)
        {
            insert.Bind(1, key);
            insert.Execute();
            return database.Changes == 1;
        }

        /// <summary>Calls <paramref name="visit"/> with each value number of <paramref name="row"/>.</summary>
        public void ReadRow(int row, Action<int> visit)
        {
            readRow.Bind(1, PairKey(row, 0));
            readRow.Bind(2, PairKey(row + 1, 0));
            try
            {
                while (readRow.Step())
                {
                    visit((int)(readRow.GetInt64(0) & uint.MaxValue));
                }
            }
            finally
            {
                readRow.Reset();
            }
        }

        public void Dispose() => database.Dispose();
    }
}
