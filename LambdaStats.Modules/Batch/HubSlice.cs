namespace LambdaStats.Modules.Batch;

/// <summary>
/// One of <see cref="Count"/> disjoint sets of hubs, chosen by hashing the hub: the part of an
/// hour that one pass of a sliced batch computes.
/// </summary>
/// <remarks>
/// The hash is the process's string hash, so a slice contains the same hubs for the life of
/// the process only. A sliced run computes and checks all its slices within one process.
/// </remarks>
internal readonly record struct HubSlice
{
    public HubSlice(int index, int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, count);
        Index = index;
        Count = count;
    }

    /// <summary>The one slice that contains every hub.</summary>
    public static HubSlice Whole { get; } = new(0, 1);

    public int Index { get; }

    public int Count { get; }

    public bool Contains(string hubId) => Hash(hubId) % (uint)Count == (uint)Index;

    /// <summary>
    /// Spreads the hubs of this slice over <paramref name="partCount"/> parts. It uses the bits of
    /// the hash above the slice's, so the hubs of one slice still spread over every part.
    /// </summary>
    public int PartOf(string hubId, int partCount) => (int)(Hash(hubId) / (uint)Count % (uint)partCount);

    public override string ToString() => $"{Index + 1}/{Count}";

    private static uint Hash(string hubId) => unchecked((uint)hubId.GetHashCode());
}
