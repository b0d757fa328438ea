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
}
