namespace LambdaStats.Modules.Aggregation;

/// <summary>How a <see cref="AggregatorKind.DistinctCount"/> output counts.</summary>
public enum DistinctCountMode
{
    /// <summary>Keeps the set of values: exact over any period, memory grows with the number of distinct values.</summary>
    Exact = 1,

    /// <summary>Keeps a HyperLogLog sketch of at most 2^precision registers: an estimate in bounded memory.</summary>
    HyperLogLog,
}

/// <summary>The configuration names of <see cref="DistinctCountMode"/>.</summary>
public static class DistinctCountModes
{
    /// <summary>Modes by configuration name, matched without regard to case.</summary>
    public static readonly IReadOnlyDictionary<string, DistinctCountMode> ByName = new Dictionary<string, DistinctCountMode>(StringComparer.OrdinalIgnoreCase)
    {
        ["exact"] = DistinctCountMode.Exact,
        ["hll"] = DistinctCountMode.HyperLogLog,
    };

    public static string Name(DistinctCountMode mode) => mode switch
    {
        DistinctCountMode.Exact => "exact",
        DistinctCountMode.HyperLogLog => "hll",
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown distinct count mode."),
    };
}
