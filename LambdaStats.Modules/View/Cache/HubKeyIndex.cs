using LambdaStats.Modules.Aggregation;

namespace LambdaStats.Modules.View.Cache;

/// <summary>
/// Dense integer ids for the keys of one hub in one view: 0, 1, 2... in the order keys first
/// appear. Ids never change and are never reused, so arrays indexed by id stay valid while the
/// index grows.
/// </summary>
/// <remarks>Thread-safe. Readers take <see cref="Keys"/> once and index it with ids they hold.</remarks>
internal sealed class HubKeyIndex
{
    private readonly object sync = new();
    private readonly Dictionary<AggregationKey, int> ids = [];
    private AggregationKey[] keys = new AggregationKey[16];
    private int count;

    /// <summary>Number of ids given so far.</summary>
    public int Count => Volatile.Read(ref count);

    /// <summary>
    /// The keys by id. The array may be longer than <see cref="Count"/>; an id obtained before the
    /// call is always inside it.
    /// </summary>
    public AggregationKey[] Keys => Volatile.Read(ref keys);

    /// <summary>Returns the id of <paramref name="key"/>, giving it the next id when it is new.</summary>
    public int GetOrAdd(in AggregationKey key)
    {
        lock (sync)
        {
            if (ids.TryGetValue(key, out var id))
            {
                return id;
            }

            id = count;
            if (id == keys.Length)
            {
                // Copy on growth: readers holding the old array still find every id they know.
                var grown = new AggregationKey[keys.Length * 2];
                Array.Copy(keys, grown, keys.Length);
                Volatile.Write(ref keys, grown);
            }

            keys[id] = key;
            ids.Add(key, id);
            Volatile.Write(ref count, id + 1);
            return id;
        }
    }

    /// <summary>Returns the ids of several keys under one lock.</summary>
    public int[] GetOrAddAll(IReadOnlyList<AggregationKey> batch)
    {
        var result = new int[batch.Count];
        lock (sync)
        {
            for (var i = 0; i < result.Length; i++)
            {
                result[i] = GetOrAdd(batch[i]);
            }
        }

        return result;
    }
}
