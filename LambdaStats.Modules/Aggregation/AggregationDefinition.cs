using LambdaStats.Modules.Events.Contracts;

namespace LambdaStats.Modules.Aggregation;

/// <summary>One aggregation of the catalogue: which events it consumes, its key and its outputs.</summary>
public sealed class AggregationDefinition
{
    public const int MaxKeyFields = AggregationKey.MaxFields;

    private string? viewId;

    public AggregationDefinition(string name, EventType eventType, IReadOnlyList<EventField> key, IReadOnlyList<OutputDefinition> outputs, bool speedLayer = true)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (key.Count is 0 or > MaxKeyFields)
        {
            throw new ArgumentException($"Aggregation '{name}': the key must have 1 to {MaxKeyFields} fields.", nameof(key));
        }

        if (key[0] != EventField.HubId)
        {
            throw new ArgumentException($"Aggregation '{name}': the key must start with hubId, because every query filters on the hub.", nameof(key));
        }

        if (outputs.Count == 0)
        {
            throw new ArgumentException($"Aggregation '{name}': at least one output is required.", nameof(outputs));
        }

        Name = name;
        EventType = eventType;
        Key = key.ToArray();
        Outputs = outputs.ToArray();
        SpeedLayer = speedLayer;
    }

    public string Name { get; }

    /// <summary>
    /// The name under which views and frontiers are stored: the name plus a fingerprint of the
    /// event type, key and outputs. A configuration change to any of them gives a new id, so the
    /// aggregation is backfilled from the first stored event instead of reading views in an old
    /// shape.
    /// </summary>
    public string ViewId => viewId ??= Name + "@" + Fingerprint();

    public EventType EventType { get; }

    /// <summary>Key fields in order; the first is always <see cref="EventField.HubId"/>.</summary>
    public IReadOnlyList<EventField> Key { get; }

    public IReadOnlyList<OutputDefinition> Outputs { get; }

    public bool SpeedLayer { get; }

    private string Fingerprint()
    {
        var description = new System.Text.StringBuilder();
        description.Append(EventType).Append('|').AppendJoin(',', Key).Append('|');
        foreach (var output in Outputs)
        {
            description.Append(output.Describe()).Append(';');
        }

        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(description.ToString()));
        return Convert.ToHexStringLower(hash.AsSpan(0, 4));
    }

    public int IndexOfKeyField(EventField field)
    {
        for (var i = 0; i < Key.Count; i++)
        {
            if (Key[i] == field)
            {
                return i;
            }
        }

        return -1;
    }

    public AggregateRow CreateRow()
    {
        var accumulators = new Accumulator[Outputs.Count];
        for (var i = 0; i < accumulators.Length; i++)
        {
            accumulators[i] = Outputs[i].CreateAccumulator();
        }

        return new AggregateRow(accumulators);
    }

    public AggregateRow CreateTotalRow()
    {
        var accumulators = new Accumulator[Outputs.Count];
        for (var i = 0; i < accumulators.Length; i++)
        {
            accumulators[i] = Outputs[i].CreateTotal();
        }

        return new AggregateRow(accumulators);
    }

    public AggregationKey KeyOf(LambdaEvent e) => AggregationKey.From(e, Key);
}
