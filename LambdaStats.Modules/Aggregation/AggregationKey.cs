using LambdaStats.Modules.Events.Contracts;

namespace LambdaStats.Modules.Aggregation;

/// <summary>
/// Values of an aggregation's key fields, in key order. A struct of up to four string references,
/// so building it from an event does not allocate. A missing field is the empty string.
/// </summary>
public readonly struct AggregationKey : IEquatable<AggregationKey>
{
    public const int MaxFields = 4;

    private readonly string? k0;
    private readonly string? k1;
    private readonly string? k2;
    private readonly string? k3;

    public AggregationKey(IReadOnlyList<string> values)
    {
        if (values.Count is 0 or > MaxFields)
        {
            throw new ArgumentException($"A key has 1 to {MaxFields} values, got {values.Count}.", nameof(values));
        }

        Count = values.Count;
        k0 = values[0];
        k1 = values.Count > 1 ? values[1] : null;
        k2 = values.Count > 2 ? values[2] : null;
        k3 = values.Count > 3 ? values[3] : null;
    }

    private AggregationKey(int count, string? k0, string? k1, string? k2, string? k3)
    {
        Count = count;
        this.k0 = k0;
        this.k1 = k1;
        this.k2 = k2;
        this.k3 = k3;
    }

    public int Count { get; }

    public string this[int index] => index switch
    {
        0 when Count > 0 => k0!,
        1 when Count > 1 => k1!,
        2 when Count > 2 => k2!,
        3 when Count > 3 => k3!,
        _ => throw new ArgumentOutOfRangeException(nameof(index), index, $"The key has {Count} values."),
    };

    public static AggregationKey From(LambdaEvent e, IReadOnlyList<EventField> fields)
    {
        // Definitions keep their key as an array: indexing it directly avoids an interface call
        // per field on the speed layer's per-event path.
        if (fields is EventField[] array)
        {
            return From(e, array);
        }

        var count = fields.Count;
        return new AggregationKey(
            count,
            ValueOf(e, fields[0]),
            count > 1 ? ValueOf(e, fields[1]) : null,
            count > 2 ? ValueOf(e, fields[2]) : null,
            count > 3 ? ValueOf(e, fields[3]) : null);
    }

    private static AggregationKey From(LambdaEvent e, EventField[] fields) => fields.Length switch
    {
        1 => new AggregationKey(1, ValueOf(e, fields[0]), null, null, null),
        2 => new AggregationKey(2, ValueOf(e, fields[0]), ValueOf(e, fields[1]), null, null),
        3 => new AggregationKey(3, ValueOf(e, fields[0]), ValueOf(e, fields[1]), ValueOf(e, fields[2]), null),
        _ => new AggregationKey(fields.Length, ValueOf(e, fields[0]), ValueOf(e, fields[1]), ValueOf(e, fields[2]), ValueOf(e, fields[3])),
    };

    private static string ValueOf(LambdaEvent e, EventField field) => EventFields.GetString(e, field) ?? string.Empty;

    public string[] ToArray()
    {
        var values = new string[Count];
        for (var i = 0; i < Count; i++)
        {
            values[i] = this[i];
        }

        return values;
    }

    public bool Equals(AggregationKey other) =>
        Count == other.Count
        && string.Equals(k0, other.k0, StringComparison.Ordinal)
        && string.Equals(k1, other.k1, StringComparison.Ordinal)
        && string.Equals(k2, other.k2, StringComparison.Ordinal)
        && string.Equals(k3, other.k3, StringComparison.Ordinal);

    public override bool Equals(object? obj) => obj is AggregationKey other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(k0, k1, k2, k3);

    public override string ToString() => string.Join("|", ToArray());
}
