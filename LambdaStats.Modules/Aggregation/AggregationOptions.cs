namespace LambdaStats.Modules.Aggregation;

/// <summary>The aggregation catalogue as written in configuration, under <c>Aggregations</c>.</summary>
/// <remarks>Lists, not dictionaries, because the order of outputs is meaningful and configuration sorts dictionary keys.</remarks>
public sealed class AggregationOptions
{
    public const string SectionName = "Aggregations";

    public List<AggregationDefinitionOptions> Items { get; set; } = [];
}

public sealed class AggregationDefinitionOptions
{
    public string? Name { get; set; }

    public string? EventType { get; set; }

    /// <summary>Event fields that identify one aggregated row; must include <c>hubId</c>.</summary>
    public List<string> Key { get; set; } = [];

    /// <summary>Whether the speed layer maintains this aggregation; true by default.</summary>
    public bool SpeedLayer { get; set; } = true;

    public List<OutputOptions> Outputs { get; set; } = [];
}

public sealed class OutputOptions
{
    public string? Name { get; set; }

    /// <summary>One of <c>count</c>, <c>add</c>, <c>exists</c>, <c>projectionAdd</c>, <c>min</c>, <c>max</c>, <c>distinctCount</c>.</summary>
    public string? Aggregator { get; set; }

    /// <summary>
    /// The numeric field summed by <c>add</c> and <c>projectionAdd</c> (without it <c>projectionAdd</c>
    /// counts 1 per event) or read by <c>min</c> and <c>max</c>, or the event field, string or
    /// numeric, whose values <c>distinctCount</c> counts.
    /// </summary>
    public string? Field { get; set; }

    /// <summary>The field whose values are the groups of a <c>projectionAdd</c>.</summary>
    public string? GroupBy { get; set; }

    /// <summary>How <c>distinctCount</c> counts: <c>exact</c> (the default, a set of values) or <c>hll</c> (a HyperLogLog estimate).</summary>
    public string? Mode { get; set; }

    /// <summary>
    /// HyperLogLog precision of a <c>distinctCount</c> in <c>hll</c> mode, 4 to 18 (default 14): the
    /// sketch has 2^precision registers and a relative standard error of about 1.04 / sqrt(2^precision).
    /// </summary>
    public int? Precision { get; set; }
}
