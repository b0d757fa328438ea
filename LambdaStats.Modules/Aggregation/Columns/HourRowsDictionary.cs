using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace LambdaStats.Modules.Aggregation.Columns;

/// <summary>
/// A read-only dictionary over the rows of an <see cref="HourRows"/>. The rows stay in the
/// columns, and every read makes a new <see cref="AggregateRow"/> that the caller owns, so an
/// enumeration that drops each row after use keeps one row alive at a time.
/// </summary>
/// <remarks>The keys of one hub come one after the other. The hour must not change while it is read.</remarks>
internal sealed class HourRowsDictionary(HourRows rows) : IReadOnlyDictionary<AggregationKey, AggregateRow>
{
    public int Count => rows.Count;

    public IEnumerable<AggregationKey> Keys => rows.EnumerateKeys();

    public IEnumerable<AggregateRow> Values => rows.EnumerateRows().Select(pair => pair.Value);

    public AggregateRow this[AggregationKey key] => TryGetValue(key, out var row) ? row : throw new KeyNotFoundException($"Row not found for key {key}.");

    public bool ContainsKey(AggregationKey key) => rows.Contains(key);

    public bool TryGetValue(AggregationKey key, [MaybeNullWhen(false)] out AggregateRow value) => rows.TryCopyRow(key, out value);

    public IEnumerator<KeyValuePair<AggregationKey, AggregateRow>> GetEnumerator() => rows.EnumerateRows().GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
