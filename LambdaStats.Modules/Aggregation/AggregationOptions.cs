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

    /// <summary>One of <c>count</c>, <c>add</c>, <c>exists</c>, <c>projectionAdd</c>.</summary>
    public string? Aggregator { get; set; }

    /// <summary>The numeric field summed by <c>add</c> and <c>projectionAdd</c>; without it <c>projectionAdd</c> counts 1 per event.</summary>
    public string? Field { get; set; }

    /// <summary>The field whose values are the groups of a <c>projectionAdd</c>.</summary>
    public string? GroupBy { get; set; }
}
