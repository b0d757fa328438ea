using System.Runtime.InteropServices;
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
/// <see cref="PairScratch.PairsInMemory"/> of them, and appends a record with the amount there for
/// every later event. It then keeps in memory the group numbering, 4 bytes per row and a 64 KiB write buffer. A
/// read replays the row's records in event order: each group's sum starts at 0.0 and adds the
/// amounts in that order, and the groups come in the order of their first record. The spill
/// writes one record per pair with its sum, which replays to the same bits because a sum is
/// never -0.0 (0.0 + -0.0 is 0.0). A read that finds more than twice as many records as groups,
/// plus 16, rewrites the row as one record per group with its sum, for the same reason.
/// </para>
/// </remarks>
internal sealed class ProjectionColumn(EventField groupBy, EventField? field, RowStringPool pool, PairScratch? scratch = null) : OutputColumn
{
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

    // Set once the pairs moved to the scratch file. rowStart, rowLength and the pair arrays are then empty.
    private SpilledPairs? spilled;

    // Set when a spill failed: the column keeps its pairs in memory for the rest of its hour.
    private bool spillFailed;

    /// <summary>Number of (row, group) pairs, in memory or in the scratch file; for tests.</summary>
    /// <remarks>Once the pairs are in the scratch file, this reads every row.</remarks>
    internal long PairCount => spilled is { } pairs ? Enumerable.Range(0, rows).Sum(row => (long)pairs.ReadSums(row)) : live;

    /// <summary>Whether the pairs moved to a scratch file; for tests.</summary>
    internal bool IsSpilled => spilled is not null;

    /// <summary>Number of records in the scratch file, 0 before the spill; for tests.</summary>
    internal long ScratchRecordCount => spilled?.RecordCount ?? 0;

    /// <summary>Places of the shared arrays between slices that no row uses any more; for tests.</summary>
    internal int UnusedPlaces => used - live;

    public override void AddRow()
    {
        if (spilled is not null)
        {
            spilled.EnsureRows(rows + 1);
            rows++;
            return;
        }

        if (rows == rowStart.Length)
        {
            var size = GrownSize(rows);
            Array.Resize(ref rowStart, size);
            Array.Resize(ref rowLength, size);
        }

        rowStart[rows] = used;
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
            spilled.Add(row, number, amount);
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
            var count = spilled.ReadSums(row);
            for (var i = 0; i < count; i++)
            {
                accumulator.AddToGroup(groupNames[spilled.Groups[i]], spilled.Sums[i]);
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

    public override void UnmapScratchFile() => spilled?.Unmap();

    /// <summary>Moves every pair to a new scratch file, each row's groups in their order, and frees the arrays.</summary>
    /// <remarks>When the file cannot be created or written, the pairs stay in memory and the failure is reported once.</remarks>
    private void Spill(PairScratch target)
    {
        SpilledPairs? pairs = null;
        try
        {
            pairs = new SpilledPairs(target.Create(withAmounts: true), rows);
            for (var row = 0; row < rows; row++)
            {
                var start = rowStart[row];
                for (var i = start; i < start + rowLength[row]; i++)
                {
                    pairs.Add(row, pairGroup[i], pairSum[i]);
                }
            }
        }
        catch (Exception exception) when (exception is InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            pairs?.Dispose();
            spillFailed = true;
            target.ReportSpillFailure(exception, live);
            return;
        }

        spilled = pairs;
        pairGroup = [];
        pairSum = [];
        rowStart = [];
        rowLength = [];
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

    /// <summary>The (row, group) pairs of the column as records of a scratch file, one per event with its amount.</summary>
    private sealed class SpilledPairs : IDisposable
    {
        private readonly PairRecordFile file;

        // A row's groups in the order of their first record, each with its sum, refilled by each ReadSums.
        private readonly Dictionary<int, int> placeOfGroup = [];
        private readonly List<int> groups = [];
        private readonly List<double> sums = [];

        public SpilledPairs(PairRecordFile file, int rows)
        {
            this.file = file;
            file.EnsureRows(rows);
        }

        public long RecordCount => file.RecordCount;

        public void EnsureRows(int rows) => file.EnsureRows(rows);

        public void Unmap() => file.Unmap();

        public void Add(int row, int group, double amount) => file.Append(row, group, amount);

        /// <summary>Groups of the row that the last <see cref="ReadSums"/> read, in the order of their first event.</summary>
        public ReadOnlySpan<int> Groups => CollectionsMarshal.AsSpan(groups);

        /// <summary>The sum of each of <see cref="Groups"/>.</summary>
        public ReadOnlySpan<double> Sums => CollectionsMarshal.AsSpan(sums);

        /// <summary>Replays the records of <paramref name="row"/> into <see cref="Groups"/> and <see cref="Sums"/>, and returns the number of groups.</summary>
        /// <remarks>
        /// A row with more than twice as many records as groups, plus 16, gets a new chain of one
        /// record per group and sum, so the next read replays only those and the events since.
        /// </remarks>
        public int ReadSums(int row)
        {
            file.ReadRow(row);
            var numbers = file.RowNumbers;
            var amounts = file.RowAmounts;
            placeOfGroup.Clear();
            groups.Clear();
            sums.Clear();
            for (var i = 0; i < numbers.Length; i++)
            {
                ref var place = ref CollectionsMarshal.GetValueRefOrAddDefault(placeOfGroup, numbers[i], out var exists);
                if (!exists)
                {
                    place = groups.Count;
                    groups.Add(numbers[i]);
                    sums.Add(0.0);
                }

                // The same additions as the accumulator's: 0.0, then each amount in event order.
                CollectionsMarshal.AsSpan(sums)[place] += amounts[i];
            }

            if (numbers.Length > (2 * groups.Count) + 16)
            {
                file.RewriteRow(row, CollectionsMarshal.AsSpan(groups), CollectionsMarshal.AsSpan(sums));
            }

            return groups.Count;
        }

        public void Dispose() => file.Dispose();
    }
}
