using System.Collections;
using System.Diagnostics.CodeAnalysis;
using LambdaStats.Modules.Aggregation;

namespace LambdaStats.Modules.Batch;

/// <summary>
/// The rows of one aggregation and hour, computed in parts that each contain every key of some hubs.
/// Reads them as one dictionary without copying them into one.
/// </summary>
/// <remarks>
/// Every key starts with its hub, so a key lies in the part that <see cref="HubSlice.PartOf"/> gives its hub.
/// Enumeration goes part after part, so the keys of one hub come one after the other when they
/// do in their part.
/// </remarks>
/// <param name="slice">The slice whose hubs the parts hold.</param>
internal sealed class HubPartitionedRows(HubSlice slice, IReadOnlyDictionary<AggregationKey, AggregateRow>[] parts) : IReadOnlyDictionary<AggregationKey, AggregateRow>
{
    public int Count => parts.Sum(part => part.Count);

    public IEnumerable<AggregationKey> Keys => parts.SelectMany(part => part.Keys);

    public IEnumerable<AggregateRow> Values => parts.SelectMany(part => part.Values);

    public AggregateRow this[AggregationKey key] => TryGetValue(key, out var row) ? row : throw new KeyNotFoundException($"Row not found for key {key}.");

    public bool ContainsKey(AggregationKey key) => key.Count > 0 && slice.Contains(key[0]) && parts[slice.PartOf(key[0], parts.Length)].ContainsKey(key);

    public bool TryGetValue(AggregationKey key, [MaybeNullWhen(false)] out AggregateRow value)
    {
        if (key.Count == 0 || !slice.Contains(key[0]))
        {
            value = null;
            return false;
        }

        return parts[slice.PartOf(key[0], parts.Length)].TryGetValue(key, out value);
    }

    public IEnumerator<KeyValuePair<AggregationKey, AggregateRow>> GetEnumerator() => parts.SelectMany(part => part).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
