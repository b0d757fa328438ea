using System.Text.Json;
using LambdaStats.Modules.Events.Contracts;

namespace LambdaStats.Modules.Aggregation;

/// <summary>One named output of an aggregation and the aggregator that computes it.</summary>
public sealed class OutputDefinition
{
    /// <param name="mode">Only for <see cref="AggregatorKind.DistinctCount"/>; <see cref="DistinctCountMode.Exact"/> when null.</param>
    /// <param name="precision">
    /// Only for <see cref="DistinctCountMode.HyperLogLog"/>: log2 of the number of registers, from
    /// <see cref="HyperLogLogSketch.MinPrecision"/> to <see cref="HyperLogLogSketch.MaxPrecision"/>;
    /// <see cref="HyperLogLogSketch.DefaultPrecision"/> when null.
    /// </param>
    public OutputDefinition(
        string name,
        AggregatorKind aggregator,
        EventField? field = null,
        EventField? groupBy = null,
        DistinctCountMode? mode = null,
        int? precision = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (aggregator == AggregatorKind.Add && field is null)
        {
            throw new ArgumentException($"Output '{name}': the add aggregator needs a numeric field.", nameof(field));
        }

        if (aggregator is AggregatorKind.Min or AggregatorKind.Max && (field is not { } numeric || !EventFields.IsNumeric(numeric)))
        {
            throw new ArgumentException($"Output '{name}': the {ConfigName(aggregator)} aggregator needs a numeric field (page, durationSeconds).", nameof(field));
        }

        if (aggregator == AggregatorKind.ProjectionAdd && groupBy is null)
        {
            throw new ArgumentException($"Output '{name}': the projectionAdd aggregator needs a groupBy field.", nameof(groupBy));
        }

        if (aggregator == AggregatorKind.DistinctCount && field is null)
        {
            throw new ArgumentException($"Output '{name}': the distinctCount aggregator needs a field.", nameof(field));
        }

        if (aggregator != AggregatorKind.DistinctCount && mode is not null)
        {
            throw new ArgumentException($"Output '{name}': a mode applies only to the distinctCount aggregator, not to {ConfigName(aggregator)}.", nameof(mode));
        }

        if (precision is not null && mode != DistinctCountMode.HyperLogLog)
        {
            throw new ArgumentException($"Output '{name}': a precision applies only to the hll mode of distinctCount.", nameof(precision));
        }

        if (precision is < HyperLogLogSketch.MinPrecision or > HyperLogLogSketch.MaxPrecision)
        {
            throw new ArgumentOutOfRangeException(nameof(precision), precision, $"Output '{name}': the precision must be {HyperLogLogSketch.MinPrecision} to {HyperLogLogSketch.MaxPrecision}.");
        }

        Name = name;
        Aggregator = aggregator;
        Field = field;
        GroupBy = groupBy;
        if (aggregator == AggregatorKind.DistinctCount)
        {
            Mode = mode ?? DistinctCountMode.Exact;
            Precision = Mode == DistinctCountMode.HyperLogLog ? precision ?? HyperLogLogSketch.DefaultPrecision : null;
        }
    }

    public string Name { get; }

    public AggregatorKind Aggregator { get; }

    public EventField? Field { get; }

    public EventField? GroupBy { get; }

    /// <summary>How a distinctCount output counts; null for the other aggregators.</summary>
    public DistinctCountMode? Mode { get; }

    /// <summary>The HyperLogLog precision of a distinctCount output in hll mode; null otherwise.</summary>
    public int? Precision { get; }

    /// <summary>Every setting that shapes this output's stored state, as one line of text.</summary>
    public string Describe() => $"{Name}:{Aggregator}:{Field}:{GroupBy}:{Mode}:{Precision}";

    /// <summary>Creates the identity state of this output.</summary>
    public Accumulator CreateAccumulator() => Aggregator switch
    {
        AggregatorKind.Count => new CountAccumulator(),
        AggregatorKind.Add => new AddAccumulator(Field!.Value),
        AggregatorKind.Exists => new ExistsAccumulator(),
        AggregatorKind.ProjectionAdd => new ProjectionAddAccumulator(GroupBy!.Value, Field),
        AggregatorKind.Min => new MinAccumulator(Field!.Value),
        AggregatorKind.Max => new MaxAccumulator(Field!.Value),
        AggregatorKind.DistinctCount when Mode == DistinctCountMode.HyperLogLog => new HyperLogLogDistinctCountAccumulator(Field!.Value, Precision!.Value),
        AggregatorKind.DistinctCount => new ExactDistinctCountAccumulator(Field!.Value),
        _ => throw new InvalidOperationException($"Unknown aggregator {Aggregator}."),
    };

    /// <summary>Creates the identity of a total over keys; <c>exists</c> totals count keys.</summary>
    public Accumulator CreateTotal() =>
        Aggregator == AggregatorKind.Exists ? new CountAccumulator() : CreateAccumulator();

    /// <summary>Returns the name of <paramref name="aggregator"/> in configuration, such as <c>distinctCount</c>.</summary>
    private static string ConfigName(AggregatorKind aggregator) => JsonNamingPolicy.CamelCase.ConvertName(aggregator.ToString());
}
