using LambdaStats.Modules.Aggregation;

namespace LambdaStats.Modules.View.Cache;

/// <summary>How the view cache keeps one output of an aggregation: as numbers, flags, or accumulator objects.</summary>
internal enum ColumnKind
{
    /// <summary>A count: one 64-bit integer per key.</summary>
    Count,

    /// <summary>A sum: one double per key.</summary>
    Sum,

    /// <summary>An exists flag: one boolean per key.</summary>
    Flag,

    /// <summary>Any other accumulator (min, max, distinct counts, projections): the object itself.</summary>
    Other,
}

/// <summary>The column kinds of an aggregation's outputs, in output order.</summary>
internal static class ColumnLayout
{
    public static ColumnKind[] Of(AggregationDefinition definition)
    {
        var prototype = definition.CreateRow().Outputs;
        var kinds = new ColumnKind[prototype.Count];
        for (var i = 0; i < kinds.Length; i++)
        {
            kinds[i] = prototype[i] switch
            {
                CountAccumulator => ColumnKind.Count,
                AddAccumulator => ColumnKind.Sum,
                ExistsAccumulator => ColumnKind.Flag,
                _ => ColumnKind.Other,
            };
        }

        return kinds;
    }
}
