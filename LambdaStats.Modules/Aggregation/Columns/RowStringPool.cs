using System.Runtime.InteropServices;

namespace LambdaStats.Modules.Aggregation.Columns;

/// <summary>
/// One instance of each distinct string that the rows of a speed buffer keep (key values,
/// projectionAdd group names and exact distinctCount values), shared by all its hours and segments, with the number of uses.
/// </summary>
/// <remarks>
/// Events parsed from separate requests carry separate string instances. Without the pool each
/// hour would keep its own copy of every key value. A string is dropped when its last use is
/// released. Not thread-safe, so the speed buffer's lock covers every call.
/// </remarks>
internal sealed class RowStringPool
{
    private readonly Dictionary<string, (string Shared, int Uses)> entries = new(StringComparer.Ordinal);

    /// <summary>Number of distinct values held.</summary>
    public int Count => entries.Count;

    /// <summary>Returns the shared instance equal to <paramref name="value"/>, and counts one more use of it.</summary>
    public string Acquire(string value)
    {
        ref var entry = ref CollectionsMarshal.GetValueRefOrAddDefault(entries, value, out var exists);
        if (!exists)
        {
            entry.Shared = value;
        }

        entry.Uses++;
        return entry.Shared;
    }

    /// <summary>Counts one use fewer of <paramref name="value"/>, and drops it when no use remains.</summary>
    public void Release(string value)
    {
        ref var entry = ref CollectionsMarshal.GetValueRefOrNullRef(entries, value);
        if (System.Runtime.CompilerServices.Unsafe.IsNullRef(ref entry))
        {
            throw new InvalidOperationException("A pooled string is released more often than it was acquired.");
        }

        if (--entry.Uses == 0)
        {
            entries.Remove(value);
        }
    }

    /// <summary>Drops every value, for a buffer that starts again empty.</summary>
    public void Clear() => entries.Clear();
}
