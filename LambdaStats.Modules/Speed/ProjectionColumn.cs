using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Events.Contracts;

namespace LambdaStats.Modules.Speed;

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
/// </remarks>
internal sealed class ProjectionColumn(EventField groupBy, EventField? field, RowStringPool pool) : OutputColumn
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

    /// <summary>Number of (row, group) pairs; for tests.</summary>
    internal int PairCount => live;

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
    }

    public override Accumulator ToAccumulator(int row)
    {
        var accumulator = new ProjectionAddAccumulator(groupBy, field);
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
}
