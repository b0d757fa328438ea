using LambdaStats.Modules.Events.Contracts;

namespace LambdaStats.Modules.Aggregation;

/// <summary>One named output of an aggregation and the aggregator that computes it.</summary>
public sealed class OutputDefinition
{
    public OutputDefinition(string name, AggregatorKind aggregator, EventField? field = null, EventField? groupBy = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (aggregator == AggregatorKind.Add && field is null)
        {
            throw new ArgumentException($"Output '{name}': the add aggregator needs a numeric field.", nameof(field));
        }

        if (aggregator == AggregatorKind.ProjectionAdd && groupBy is null)
        {
            throw new ArgumentException($"Output '{name}': the projectionAdd aggregator needs a groupBy field.", nameof(groupBy));
        }

        Name = name;
        Aggregator = aggregator;
        Field = field;
        GroupBy = groupBy;
    }

    public string Name { get; }

    public AggregatorKind Aggregator { get; }

    public EventField? Field { get; }

    public EventField? GroupBy { get; }

    /// <summary>Creates the identity state of this output.</summary>
    public Accumulator CreateAccumulator() => Aggregator switch
    {
        AggregatorKind.Count => new CountAccumulator(),
        AggregatorKind.Add => new AddAccumulator(Field!.Value),
        AggregatorKind.Exists => new ExistsAccumulator(),
        AggregatorKind.ProjectionAdd => new ProjectionAddAccumulator(GroupBy!.Value, Field),
        _ => throw new InvalidOperationException($"Unknown aggregator {Aggregator}."),
    };

    /// <summary>Creates the identity of a total over keys; <c>exists</c> totals count keys.</summary>
    public Accumulator CreateTotal() =>
        Aggregator == AggregatorKind.Exists ? new CountAccumulator() : CreateAccumulator();
}
