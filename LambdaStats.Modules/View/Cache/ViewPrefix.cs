using LambdaStats.Modules.Aggregation;

namespace LambdaStats.Modules.View.Cache;

/// <summary>
/// The merged columns of a sequence of cached buckets of one hub, kept so that the next query over
/// the same buckets, or over the same buckets followed by more, starts from them.
/// </summary>
/// <remarks>
/// Immutable. Buckets are compared by reference: a cached bucket never changes, and a commit
/// replaces it with a new object, so equal references mean equal rows.
/// </remarks>
internal sealed class ViewPrefix
{
    public ViewPrefix(HubBucket[] buckets, bool[] present, long[]?[] counts, double[]?[] sums, bool[]?[] flags, Accumulator?[]?[] others)
    {
        Buckets = buckets;
        Present = present;
        Counts = counts;
        Sums = sums;
        Flags = flags;
        Others = others;
        long bytes = 200 + present.Length;
        foreach (var column in counts)
        {
            bytes += (column?.Length ?? 0) * 8L;
        }

        foreach (var column in sums)
        {
            bytes += (column?.Length ?? 0) * 8L;
        }

        foreach (var column in flags)
        {
            bytes += column?.Length ?? 0;
        }

        foreach (var column in others)
        {
            bytes += (column?.Length ?? 0) * (8L + 64);
        }

        ApproximateBytes = bytes;
    }

    public HubBucket[] Buckets { get; }

    public bool[] Present { get; }

    public long[]?[] Counts { get; }

    public double[]?[] Sums { get; }

    public bool[]?[] Flags { get; }

    /// <summary>Merged accumulators of other outputs; shared, so readers clone one before changing it.</summary>
    public Accumulator?[]?[] Others { get; }

    /// <summary>Managed memory held by the arrays, for the cache's budget; an estimate.</summary>
    public long ApproximateBytes { get; }

    /// <summary>Last use, on the cache's access counter; for eviction.</summary>
    public long LastUsed { get; set; }

    /// <summary>Whether this prefix merged <paramref name="bucket"/>, by reference.</summary>
    public bool Contains(HubBucket bucket) => Array.IndexOf(Buckets, bucket) >= 0;

    /// <summary>Whether <paramref name="buckets"/> starts with exactly this prefix's buckets.</summary>
    public bool IsPrefixOf(IReadOnlyList<HubBucket> buckets)
    {
        if (Buckets.Length > buckets.Count)
        {
            return false;
        }

        for (var i = 0; i < Buckets.Length; i++)
        {
            if (!ReferenceEquals(Buckets[i], buckets[i]))
            {
                return false;
            }
        }

        return true;
    }
}
