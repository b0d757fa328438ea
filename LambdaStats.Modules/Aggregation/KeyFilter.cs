namespace LambdaStats.Modules.Aggregation;

/// <summary>Equality conditions on key fields, by position in the aggregation key. Position 0 is the hub.</summary>
public sealed class KeyFilter
{
    public KeyFilter(string hubId, IReadOnlyList<KeyCondition>? others = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(hubId);
        HubId = hubId;
        Others = others ?? [];
    }

    public string HubId { get; }

    /// <summary>Conditions on key fields after the hub.</summary>
    public IReadOnlyList<KeyCondition> Others { get; }

    public bool Matches(in AggregationKey key)
    {
        if (!string.Equals(key[0], HubId, StringComparison.Ordinal))
        {
            return false;
        }

        foreach (var condition in Others)
        {
            if (!string.Equals(key[condition.Index], condition.Value, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>Key field at <see cref="Index"/> must equal <see cref="Value"/>.</summary>
public readonly record struct KeyCondition(int Index, string Value);
