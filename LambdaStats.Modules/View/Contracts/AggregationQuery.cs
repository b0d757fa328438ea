using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.View.Contracts;

namespace LambdaStats.Modules.View.Contracts;

/// <summary>A request for one aggregation over [<see cref="From"/>, <see cref="To"/>) for one hub.</summary>
/// <param name="KeyFilters">Other key fields by JSON name (for example <c>mediaId</c>) and the value they must equal.</param>
/// <param name="GroupBy">A key field to group by, or null for totals only.</param>
/// <param name="Limit">Maximum number of groups returned.</param>
/// <param name="TimeZone">Zone whose local hours and midnights bound the series buckets; null means UTC.</param>
/// <param name="Bucket">Adds a series by hour or by day when set.</param>
public sealed record AggregationQuery(
    string Aggregation,
    string HubId,
    IReadOnlyDictionary<string, string> KeyFilters,
    DateTimeOffset From,
    DateTimeOffset To,
    string? GroupBy,
    int Limit,
    TimeZoneInfo? TimeZone = null,
    SeriesBucket? Bucket = null);

/// <summary>Size of the buckets of a series.</summary>
public enum SeriesBucket
{
    /// <summary>Local clock hours of the query's time zone.</summary>
    Hour = 1,

    /// <summary>Local days, from midnight to midnight in the query's time zone: 23 or 25 hours on DST days.</summary>
    Day,
}

/// <summary>The answer to an <see cref="AggregationQuery"/>.</summary>
/// <param name="Frontier">The batch frontier the answer was composed at.</param>
/// <param name="Totals">Totals over every matching key; <c>exists</c> outputs count the keys where they are set.</param>
/// <param name="Groups">Groups sorted by the first output, descending, cut at the limit; empty without group-by.</param>
/// <param name="Series">One entry per bucket when the query asks for a series, in time order.</param>
/// <param name="IncludesLateEvents">Whether the answer counts late events that the batch views do not hold yet; the next batch run makes them final without changing the figures.</param>
/// <param name="ProvisionalFrom">Start of the earliest hour of the period that the speed layer or the event store answered, not the final views; null when the views answered everything.</param>
public sealed record AggregationResult(
    AggregationDefinition Definition,
    AggregationQuery Query,
    BatchFrontier Frontier,
    AggregateRow Totals,
    IReadOnlyList<GroupResult> Groups,
    IReadOnlyList<SeriesPoint> Series,
    bool IncludesLateEvents,
    DateTimeOffset? ProvisionalFrom);

/// <summary>The totals of one series bucket, which starts at <see cref="Start"/> (UTC) and ends where the next starts or at the query's end.</summary>
public sealed record SeriesPoint(DateTimeOffset Start, AggregateRow Values);

/// <summary>One group: the value of the group-by field and the totals of its keys.</summary>
public sealed record GroupResult(string Field, string Value, AggregateRow Values);

/// <summary>A query that cannot run as written; <see cref="Parameter"/> names the offending parameter.</summary>
public sealed class InvalidQueryException(string parameter, string message) : Exception(message)
{
    public string Parameter { get; } = parameter;
}

/// <summary>The query names an aggregation that is not configured.</summary>
public sealed class AggregationNotFoundException(string name, IReadOnlyList<string> known)
    : Exception($"Unknown aggregation '{name}'. Known aggregations: {string.Join(", ", known)}.")
{
    public string Name { get; } = name;

    public IReadOnlyList<string> Known { get; } = known;
}

/// <summary>Answers aggregation queries by joining batch views and speed buffers at the watermark.</summary>
public interface IAggregationQueries
{
    Task<AggregationResult> QueryAsync(AggregationQuery query, CancellationToken cancellationToken);
}
