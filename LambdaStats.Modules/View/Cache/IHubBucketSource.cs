using LambdaStats.Modules.Aggregation;

namespace LambdaStats.Modules.View.Cache;

/// <summary>Which kind of view a bucket belongs to.</summary>
internal enum BucketKind
{
    Hour,
    Day,
}

/// <summary>Reads the stored rows of one hub in one view bucket, decoded by column.</summary>
internal interface IHubBucketSource
{
    /// <summary>The key ids of the hub in the view; ids of every bucket this source returns come from it.</summary>
    HubKeyIndex IndexOf(AggregationDefinition definition, string hubId);

    /// <summary>The rows of <paramref name="hubId"/> in hour or day <paramref name="bucket"/> of the view.</summary>
    ValueTask<HubBucket> ReadAsync(AggregationDefinition definition, BucketKind kind, long bucket, string hubId, CancellationToken cancellationToken);

    /// <summary>The longest prefix kept for the hub in the view that <paramref name="buckets"/> start with, or null.</summary>
    ViewPrefix? FindPrefix(AggregationDefinition definition, string hubId, IReadOnlyList<HubBucket> buckets);

    /// <summary>Keeps <paramref name="prefix"/> for the hub in the view, in place of the least recently used one when the hub has several.</summary>
    void KeepPrefix(AggregationDefinition definition, string hubId, ViewPrefix prefix);
}
