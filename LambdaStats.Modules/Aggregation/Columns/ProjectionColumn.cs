using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Events.Contracts;

namespace LambdaStats.Modules.Aggregation.Columns;

/// <summary>
/// The group sums of a projectionAdd output for every row of an hour buffer. Each group name of
/// the hour gets a number, and each row keeps its (group number, sum) pairs in a slice of two
/// shared arrays instead of an array or dictionary of its own.
/// </summary>
/// <remarks>
/// A row's slice keeps its groups in the order of their first event, as the accumulator's
/// dictionary does, and each sum starts at 0 and adds the amounts in event order, so
/// <see cref="ToAccumulator"/> returns the accumulator's state bit for bit. A new group goes at
/// the end of the row's slice when that slice ends the used part of the arrays. Otherwise the
/// slice moves to the end, and its old place becomes unused. The arrays are compacted when the
/// unused places reach an eighth of the pairs, and when they must grow.
/// <para>
/// With a <see cref="PairScratch"/>, the column moves its pairs to a scratch file once it has
/// <see cref="PairScratch.PairsInMemory"/> of them, and keeps every later pair there. It then keeps
/// in memory only the group numbering and each row's number of groups. Each pair of the file has
/// the row's ordinal of its group, so a row reads its groups in the order of their first event.
/// SQLite adds the sums in IEEE 754 double precision, as .NET does, starting from <c>0.0</c>.
/// </para>
/// </remarks>
internal sealed class ProjectionColumn(EventField groupBy, EventField? field, RowStringPool pool, PairScratch? scratch = null) : OutputColumn
{
    private const string Schema = "CREATE TABLE pairs (k INTEGER PRIMARY KEY, ordinal INTEGER NOT NULL, sum REAL NOT NULL)";

    // Page numbers up to this value find their group number in an array, without hashing the name.
    private const int MaxIndexedPage = 4096;

    private readonly Dictionary<string, int> groupNumbers = new(StringComparer.Ordinal);
    private readonly List<string> groupNames = [];

    // Per page number: 1 + its group number, or 0 when the hour has no such group yet.
    private int[] groupOfPage = [];

    private int[] rowStart = [];
    private int[] rowLength = [];
    private int rows;

    private int[] pairGroup = [];
    private double[] pairSum = [];
    private int used;
    private int live;

    // Set once the pairs moved to the scratch file. rowStart and the pair arrays are then empty.
    private SpilledPairs? spilled;

    // Set when a spill failed: the column keeps its pairs in memory for the rest of its hour.
    private bool spillFailed;
    private long spilledCount;

    /// <summary>Number of (row, group) pairs, in memory or in the scratch file; for tests.</summary>
    internal long PairCount => spilled is null ? live : spilledCount;

    /// <summary>Whether the pairs moved to a scratch file; for tests.</summary>
    internal bool IsSpilled => spilled is not null;

    /// <summary>Places of the shared arrays between slices that no row uses any more; for tests.</summary>
    internal int UnusedPlaces => used - live;

    public override void AddRow()
    {
        if (rows == rowStart.Length)
        {
            var size = GrownSize(rows);
            Array.Resize(ref rowStart, size);
            Array.Resize(ref rowLength, size);
        }

        rowStart[rows] = spilled is null ? used : 0;
        rowLength[rows] = 0;
        rows++;
    }

    public override void Add(int row, LambdaEvent e)
    {
        if (!ProjectionAddAccumulator.TryReadGroup(e, groupBy, field, out var group, out var amount))
        {
            return;
        }

        var number = GroupNumberOf(e, group);
        if (spilled is not null)
        {
            if (spilled.Add(row, number, rowLength[row], amount))
            {
                rowLength[row]++;
                spilledCount++;
            }

            return;
        }

        var start = rowStart[row];
        var end = start + rowLength[row];
        var groups = pairGroup;
        for (var i = start; i < end; i++)
        {
            if (groups[i] == number)
            {
                pairSum[i] += amount;
                return;
            }
        }

        // AppendPair may replace the arrays, so pairSum is read after it.
        var place = AppendPair(row, number);
        pairSum[place] += amount;
        if (scratch is not null && !spillFailed && live >= scratch.PairsInMemory)
        {
            Spill(scratch);
        }
    }

    public override Accumulator ToAccumulator(int row)
    {
        var accumulator = new ProjectionAddAccumulator(groupBy, field);
        if (spilled is not null)
        {
            if (rowLength[row] > 0)
            {
                spilled.ReadRow(row, (group, sum) => accumulator.AddToGroup(groupNames[group], sum));
            }

            return accumulator;
        }

        var start = rowStart[row];
        for (var i = start; i < start + rowLength[row]; i++)
        {
            accumulator.AddToGroup(groupNames[pairGroup[i]], pairSum[i]);
        }

        return accumulator;
    }

    public override void ReleaseStrings()
    {
        foreach (var name in groupNames)
        {
            pool.Release(name);
        }
    }

    public override void DeleteScratchFile()
    {
        spilled?.Dispose();
        spilled = null;
    }

    /// <summary>Moves every pair to a new scratch file, with its ordinal in its row, and frees the pair arrays.</summary>
    /// <remarks>When the file cannot be created or written, the pairs stay in memory and the failure is reported once.</remarks>
    private void Spill(PairScratch target)
    {
        SpilledPairs? pairs = null;
        try
        {
            pairs = new SpilledPairs(target.Create(Schema));
            for (var row = 0; row < rows; row++)
            {
                var start = rowStart[row];
                for (var ordinal = 0; ordinal < rowLength[row]; ordinal++)
                {
                    pairs.Restore(row, pairGroup[start + ordinal], ordinal, pairSum[start + ordinal]);
                }
            }
        }
        catch (Exception exception) when (exception is InvalidOperationException or IOException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException)
        {
            pairs?.Dispose();
            spillFailed = true;
            target.ReportSpillFailure(exception, live);
            return;
        }

        spilled = pairs;
        spilledCount = live;
        pairGroup = [];
        pairSum = [];
        rowStart = new int[rowLength.Length];
        used = 0;
        live = 0;
    }

    private int GroupNumberOf(LambdaEvent e, string group)
    {
        if (groupBy == EventField.Page && e.Page is { } page && page is > 0 and <= MaxIndexedPage)
        {
            if (page < groupOfPage.Length && groupOfPage[page] != 0)
            {
                return groupOfPage[page] - 1;
            }

            var number = NumberOfName(group);
            if (page >= groupOfPage.Length)
            {
                Array.Resize(ref groupOfPage, Math.Min(MaxIndexedPage + 1, Math.Max(page + 1, groupOfPage.Length * 2)));
            }

            groupOfPage[page] = number + 1;
            return number;
        }

        return NumberOfName(group);
    }

    private int NumberOfName(string group)
    {
        if (groupNumbers.TryGetValue(group, out var number))
        {
            return number;
        }

        var shared = pool.Acquire(group);
        groupNumbers.Add(shared, groupNames.Count);
        groupNames.Add(shared);
        return groupNames.Count - 1;
    }

    /// <summary>Adds a pair with a sum of 0 for <paramref name="group"/> at the end of the row's slice, and returns its place.</summary>
    private int AppendPair(int row, int group)
    {
        var length = rowLength[row];
        if (rowStart[row] + length != used || used == pairGroup.Length)
        {
            // The slice cannot grow where it is: it moves to the end of the used places.
            Reserve(length + 1);
            var start = rowStart[row];
            if (start + length != used)
            {
                Array.Copy(pairGroup, start, pairGroup, used, length);
                Array.Copy(pairSum, start, pairSum, used, length);
                rowStart[row] = used;
                used += length;
            }
        }

        pairGroup[used] = group;
        pairSum[used] = 0;
        used++;
        live++;
        rowLength[row] = length + 1;
        return used - 1;
    }

    /// <summary>Makes room for <paramref name="count"/> more places after the used ones, compacting the slices first when an eighth of the pairs' number of places are unused.</summary>
    private void Reserve(int count)
    {
        var unused = used - live;
        if (used + count <= pairGroup.Length && unused * 8 < live)
        {
            return;
        }

        // Keep the arrays when an eighth of them stays free after compacting; otherwise grow by a quarter.
        var needed = live + count;
        var size = needed + needed / 8 <= pairGroup.Length ? pairGroup.Length : Math.Max(16, needed + needed / 4);
        Compact(size);
    }

    /// <summary>Copies every row's slice, in row order and without gaps, into arrays of <paramref name="size"/> places.</summary>
    private void Compact(int size)
    {
        var groups = new int[size];
        var sums = new double[size];
        var next = 0;
        for (var row = 0; row < rows; row++)
        {
            var length = rowLength[row];
            Array.Copy(pairGroup, rowStart[row], groups, next, length);
            Array.Copy(pairSum, rowStart[row], sums, next, length);
            rowStart[row] = next;
            next += length;
        }

        pairGroup = groups;
        pairSum = sums;
        used = next;
    }

    /// <summary>The (row, group) pairs of the column in a scratch file, with their sums and their ordinals in the row.</summary>
    private sealed class SpilledPairs : IDisposable
    {
        private readonly ScratchDatabase database;
        private readonly Storage.Sqlite.SqliteRawStatement add;
        private readonly Storage.Sqlite.SqliteRawStatement restore;
        private readonly Storage.Sqlite.SqliteRawStatement readRow;

        public SpilledPairs(ScratchDatabase database)
        {
            this.database = database;

            // One statement per event. A new sum starts at 0.0 and adds the amount, as the
            // accumulator does, so that 0.0 + -0.0 stores 0.0. An existing sum adds 0.0 + amount,
            // which differs from the amount only for -0.0, and adding either zero to a sum gives
            // the same bits because a sum is never -0.0. RETURNING the ordinal, to tell an insert
            // from an update, measured about three times slower than two statements, so
            // Add reads the last inserted rowid instead.
            add = database.Prepare("INSERT INTO pairs (k, ordinal, sum) VALUES (?1, ?2, 0.0 + ?3) ON CONFLICT (k) DO UPDATE SET sum = sum + excluded.sum");
            restore = database.Prepare("INSERT INTO pairs (k, ordinal, sum) VALUES (?1, ?2, ?3)");
            readRow = database.Prepare("SELECT k, sum FROM pairs WHERE k >= ?1 AND k < ?2 ORDER BY ordinal");
        }

        /// <summary>
        /// Adds <paramref name="amount"/> to the pair's sum, or adds the pair with
        /// <paramref name="ordinal"/> and a sum of <c>0.0 + amount</c>; returns true when the pair is new.
        /// </summary>
        /// <remarks>
        /// The key is the table's rowid. An insert sets the connection's last inserted rowid to it,
        /// and the update of an upsert leaves that rowid as it was. So the pair is new when the
        /// rowid becomes the key, unless it already was: then the key existed, and this is an update.
        /// </remarks>
        public bool Add(int row, int group, int ordinal, double amount)
        {
            var key = PairKey(row, group);
            var before = database.LastInsertRowId;
            add.Bind(1, key);
            add.Bind(2, ordinal);
            add.Bind(3, amount);
            add.Execute();
            return before != key && database.LastInsertRowId == key;
        }

        /// <summary>Adds a pair moved from memory, with its sum as it is.</summary>
        public void Restore(int row, int group, int ordinal, double sum)
        {
            restore.Bind(1, PairKey(row, group));
            restore.Bind(2, ordinal);
            restore.Bind(3, sum);
            restore.Execute();
        }

        /// <summary>Calls <paramref name="visit"/> with each group number and sum of <paramref name="row"/>, in the row's order.</summary>
        public void ReadRow(int row, Action<int, double> visit)
        {
            readRow.Bind(1, PairKey(row, 0));
            readRow.Bind(2, PairKey(row + 1, 0));
            try
            {
                while (readRow.Step())
                {
                    visit((int)(readRow.GetInt64(0) & uint.MaxValue), readRow.GetDouble(1));
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
