using System.Runtime.InteropServices;
using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Events.Contracts;

namespace LambdaStats.Modules.Speed;

/// <summary>
/// Each distinct key value of one speed buffer, kept once for all its hours and segments, with a
/// dense integer id and the number of buffered rows whose key uses it.
/// </summary>
/// <remarks>
/// A value is dropped, and its id reused, when the last row that uses it is released. The lookup
/// dictionary is keyed by string with the ordinal comparer, which .NET hashes with its fast
/// non-randomized string hash and switches to the randomized one when a bucket collects too
/// many collisions. Not thread-safe; the speed buffer's lock covers every call.
/// </remarks>
internal sealed class KeyStringPool
{
    private readonly Dictionary<string, int> ids = new(StringComparer.Ordinal);
    private readonly Stack<int> freeIds = new();
    private readonly EventField[] fields;
    private readonly string[] keyScratch;

    // The value and id last looked up at each key position. Events of one batch often share a
    // hub string instance, so a reference comparison skips most hub lookups.
    private readonly string?[] recentValues = new string?[AggregationKey.MaxFields];
    private readonly int[] recentIds = new int[AggregationKey.MaxFields];

    private string?[] values = new string?[16];
    private int[] rowCounts = new int[16];
    private int nextId;

    public KeyStringPool(IReadOnlyList<EventField> keyFields)
    {
        fields = [.. keyFields];
        keyScratch = new string[fields.Length];
    }

    /// <summary>Number of distinct values held.</summary>
    public int Count => ids.Count;

    /// <summary>Looks up, adding them when new, the ids of <paramref name="e"/>'s key values.</summary>
    /// <remarks>
    /// A value added here has no row yet; the caller then adds the row with <see cref="AddRow"/>,
    /// which it always does, because a new value means a new key.
    /// </remarks>
    public KeyIds IdsOf(LambdaEvent e) => fields.Length switch
    {
        1 => new KeyIds(IdAt(e, 0)),
        2 => new KeyIds(IdAt(e, 0), IdAt(e, 1)),
        3 => new KeyIds(IdAt(e, 0), IdAt(e, 1), IdAt(e, 2)),
        _ => new KeyIds(IdAt(e, 0), IdAt(e, 1), IdAt(e, 2), IdAt(e, 3)),
    };

    /// <summary>Counts one more buffered row whose key is <paramref name="key"/>.</summary>
    public void AddRow(KeyIds key)
    {
        for (var i = 0; i < fields.Length; i++)
        {
            rowCounts[key[i]]++;
        }
    }

    /// <summary>Counts one buffered row fewer for <paramref name="key"/>, and drops the values no row uses any more.</summary>
    public void RemoveRow(KeyIds key)
    {
        for (var i = 0; i < fields.Length; i++)
        {
            var id = key[i];
            if (--rowCounts[id] == 0)
            {
                ids.Remove(values[id]!);
                values[id] = null;
                freeIds.Push(id);
                Array.Clear(recentValues);
            }
        }
    }

    /// <summary>Drops every value, for a buffer that starts again empty.</summary>
    public void Clear()
    {
        ids.Clear();
        freeIds.Clear();
        Array.Clear(recentValues);
        values = new string?[16];
        rowCounts = new int[16];
        nextId = 0;
    }

    /// <summary>Returns the key whose values have the ids <paramref name="key"/>.</summary>
    public AggregationKey KeyOf(KeyIds key)
    {
        for (var i = 0; i < keyScratch.Length; i++)
        {
            keyScratch[i] = values[key[i]]!;
        }

        // The constructor copies the values into the key, so the scratch array can be reused.
        return new AggregationKey(keyScratch);
    }

    /// <summary>
    /// Translates <paramref name="filter"/> into ids, or returns null when one of its values is
    /// in no buffered key, so that no row can match.
    /// </summary>
    public KeyIdFilter? Translate(KeyFilter filter)
    {
        if (!ids.TryGetValue(filter.HubId, out var hubId))
        {
            return null;
        }

        var others = new (int Index, int Id)[filter.Others.Count];
        for (var i = 0; i < others.Length; i++)
        {
            var condition = filter.Others[i];
            if (condition.Index < 0 || condition.Index >= fields.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(filter), condition.Index, $"The key has {fields.Length} values.");
            }

            if (!ids.TryGetValue(condition.Value, out var id))
            {
                return null;
            }

            others[i] = (condition.Index, id);
        }

        return new KeyIdFilter(hubId, others);
    }

    private int IdAt(LambdaEvent e, int position)
    {
        var value = EventFields.GetString(e, fields[position]) ?? string.Empty;
        if (ReferenceEquals(value, recentValues[position]))
        {
            return recentIds[position];
        }

        ref var id = ref CollectionsMarshal.GetValueRefOrAddDefault(ids, value, out var exists);
        if (!exists)
        {
            id = NewId(value);
        }

        recentValues[position] = value;
        recentIds[position] = id;
        return id;
    }

    private int NewId(string value)
    {
        int id;
        if (freeIds.Count > 0)
        {
            id = freeIds.Pop();
        }
        else
        {
            id = nextId++;
            if (id == values.Length)
            {
                Array.Resize(ref values, values.Length * 2);
                Array.Resize(ref rowCounts, rowCounts.Length * 2);
            }
        }

        values[id] = value;
        return id;
    }
}

/// <summary>A <see cref="KeyFilter"/> over key ids: the hub's id and the ids required at other key positions.</summary>
internal sealed class KeyIdFilter(int hubId, (int Index, int Id)[] others)
{
    public bool Matches(KeyIds key)
    {
        if (key[0] != hubId)
        {
            return false;
        }

        foreach (var (index, id) in others)
        {
            if (key[index] != id)
            {
                return false;
            }
        }

        return true;
    }
}
