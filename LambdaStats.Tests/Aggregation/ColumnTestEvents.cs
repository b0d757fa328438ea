using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Events.Contracts;

namespace LambdaStats.Tests.Aggregation;

/// <summary>Outputs and random page events for the column tests; each event comes with the row it belongs to.</summary>
internal static class ColumnTestEvents
{
    /// <summary>One output of every aggregator kind, with two add and two projectionAdd outputs.</summary>
    public static readonly OutputDefinition[] EveryAggregator =
    [
        new("views", AggregatorKind.Count),
        new("seconds", AggregatorKind.Add, EventField.DurationSeconds),
        new("pages", AggregatorKind.Add, EventField.Page),
        new("viewed", AggregatorKind.Exists),
        new("secondsByPage", AggregatorKind.ProjectionAdd, EventField.DurationSeconds, EventField.Page),
        new("viewsByNetwork", AggregatorKind.ProjectionAdd, groupBy: EventField.Network),
        new("readers", AggregatorKind.DistinctCount, EventField.VisitorId),
        new("networks", AggregatorKind.DistinctCount, EventField.Network, mode: DistinctCountMode.Exact),
        new("pagesSeen", AggregatorKind.DistinctCount, EventField.Page),
        new("estimatedReaders", AggregatorKind.DistinctCount, EventField.VisitorId, mode: DistinctCountMode.HyperLogLog, precision: 10),
        new("shortest", AggregatorKind.Min, EventField.DurationSeconds),
        new("lastPage", AggregatorKind.Max, EventField.Page),
    ];

    public static readonly DateTimeOffset Hour = new(2026, 5, 4, 10, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// Creates <paramref name="count"/> events spread over <paramref name="rows"/> rows in random
    /// order. Pages go up to <paramref name="maxPage"/>, visitors and networks are new string
    /// instances, and one event in six lacks each optional field. Durations are fractional, so sums
    /// in another order would differ in the last bits.
    /// </summary>
    public static List<(int Row, LambdaEvent Event)> Create(int seed, int count, int rows, int maxPage, int visitors)
    {
        var random = new Random(seed);
        var events = new List<(int, LambdaEvent)>(count);
        for (var i = 0; i < count; i++)
        {
            events.Add((random.Next(rows), new LambdaEvent
            {
                Id = $"e{seed}-{i}",
                Type = EventType.PageViewed,
                OccurredAt = Hour.AddSeconds(random.Next(3600)),
                HubId = "h1",
                Network = random.Next(6) == 0 ? null : string.Concat("n", random.Next(5).ToString(System.Globalization.CultureInfo.InvariantCulture)),
                VisitorId = random.Next(6) == 0 ? null : string.Concat("v", random.Next(visitors).ToString(System.Globalization.CultureInfo.InvariantCulture)),
                Page = random.Next(6) == 0 ? null : random.Next(1, maxPage + 1),
                DurationSeconds = random.Next(6) == 0 ? null : random.NextDouble() * 300,
            }));
        }

        return events;
    }
}
