namespace LambdaStats.Modules.Aggregation;

public enum AggregatorKind
{
    /// <summary>Number of events; merges by sum.</summary>
    Count = 1,

    /// <summary>Sum of a numeric field; merges by sum.</summary>
    Add,

    /// <summary>Whether at least one event occurred; merges by logical or. Totals count the keys where it is set.</summary>
    Exists,

    /// <summary>Map from the values of one field to the sum of another (or to a count); merges per group.</summary>
    ProjectionAdd,

    /// <summary>Minimum of a numeric field, null when no event carried it; merges by minimum.</summary>
    Min,

    /// <summary>Maximum of a numeric field, null when no event carried it; merges by maximum.</summary>
    Max,

    /// <summary>Number of distinct values of a field, exact or estimated (see <see cref="DistinctCountMode"/>); merges by union.</summary>
    DistinctCount,
}
