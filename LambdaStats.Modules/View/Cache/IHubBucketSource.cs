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

    /// <summary>The last prefix kept for the hub in the view, or null.</summary>
    ViewPrefix? GetPrefix(AggregationDefinition definition, string hubId);

    /// <summary>Keeps <paramref name="prefix"/> as the hub's prefix in the view, in place of the last one.</summary>
    void KeepPrefix(AggregationDefinition definition, string hubId, ViewPrefix prefix);
}
