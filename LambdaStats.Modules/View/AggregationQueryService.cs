using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Common;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.Speed.Contracts;
using LambdaStats.Modules.View.Contracts;
using Microsoft.Extensions.Logging;

namespace LambdaStats.Modules.View;

/// <summary>
/// Composes an answer as batch views for whole hours before the watermark, plus speed buffers,
/// plus the event store for the partial hours at the edges of the period.
/// </summary>
/// <remarks>
/// The watermark and the speed rows come from one snapshot. Views before the watermark change
/// only when a batch rewrites hours that received late events; the speed layer flags such a
/// rewrite, and a query that overlapped one is composed again.
/// </remarks>
internal sealed partial class AggregationQueryService(
    AggregationCatalog catalog,
    ISpeedLayer speed,
    IViewStore views,
    IEventStore events,
    ILogger<AggregationQueryService> logger) : IAggregationQueries
{
    private const int MaxAttempts = 20;

    public async Task<AggregationResult> QueryAsync(AggregationQuery query, CancellationToken cancellationToken)
    {
        var definition = Resolve(query);
        var filter = BuildFilter(definition, query);
        var groupIndex = ResolveGroupBy(definition, query.GroupBy);

        var rows = new Dictionary<AggregationKey, AggregateRow>();
        var (frontier, edges) = await ReadHoursAsync(definition, filter, query.From, query.To, rows, cancellationToken).ConfigureAwait(false);
        foreach (var (from, to) in edges)
        {
            await ReadEdgeAsync(definition, filter, from, to, rows, cancellationToken).ConfigureAwait(false);
        }

        return Reduce(definition, query, frontier, rows, groupIndex);
    }

    /// <summary>
    /// Reads every hour that [<paramref name="from"/>, <paramref name="to"/>) touches from one
    /// speed snapshot and the views before its watermark. A partial hour at an edge comes from
    /// the speed buffers when they hold all of that hour and all of it lies inside the period
    /// (the usual "until now" case); otherwise it is returned as an edge to read from the store.
    /// </summary>
    private async Task<(BatchFrontier Frontier, List<(DateTimeOffset From, DateTimeOffset To)> Edges)> ReadHoursAsync(
        AggregationDefinition definition,
        KeyFilter filter,
        DateTimeOffset from,
        DateTimeOffset to,
        Dictionary<AggregationKey, AggregateRow> rows,
        CancellationToken cancellationToken)
    {
        var first = UtcHour.Containing(from);
        var end = CeilingHour(to);
        var wholeFrom = CeilingHour(from);
        var wholeTo = UtcHour.Containing(to);
        for (var attempt = 1; ; attempt++)
        {
            var snapshot = speed.TakeSnapshot(definition, filter, first, end);
            if (snapshot.RewriteInProgress)
            {
                await speed.WaitForRewriteAsync(definition.Name, cancellationToken).ConfigureAwait(false);
                continue;
            }

            var watermark = snapshot.Frontier.Watermark;
            var viewRows = wholeFrom < wholeTo
                ? await ReadViewsAsync(definition, filter, wholeFrom, UtcHour.Min(wholeTo, watermark), snapshot.Frontier.DailyWatermark, cancellationToken).ConfigureAwait(false)
                : [];
            if (!speed.IsStillValid(snapshot))
            {
                Log.QueryRetried(logger, definition.Name, attempt);
                if (attempt >= MaxAttempts)
                {
                    throw new TimeoutException($"Aggregation '{definition.Name}': views kept changing during {MaxAttempts} attempts to read them; retry the query.");
                }

                continue;
            }

            var edges = new List<(DateTimeOffset From, DateTimeOffset To)>();
            var storeHours = new HashSet<UtcHour>();
            foreach (var (hour, edgeFrom, edgeTo) in PartialHours(from, to))
            {
                var served = hour >= watermark
                    && (!snapshot.HourBounds.TryGetValue(hour, out var bounds) || bounds.IsWithin(edgeFrom, edgeTo));
                if (!served)
                {
                    storeHours.Add(hour);
                    edges.Add((edgeFrom, edgeTo));
                }
            }

            rows.Clear();
            foreach (var row in viewRows)
            {
                MergeInto(rows, row.Key, row.Row);
            }

            foreach (var row in snapshot.Rows)
            {
                if (!storeHours.Contains(row.Hour))
                {
                    MergeInto(rows, row.Key, row.Row);
                }
            }

            return (snapshot.Frontier, edges);
        }
    }

    /// <summary>Returns the hours that the period covers only in part, with the part it covers.</summary>
    private static IEnumerable<(UtcHour Hour, DateTimeOffset From, DateTimeOffset To)> PartialHours(DateTimeOffset from, DateTimeOffset to)
    {
        var first = UtcHour.Containing(from);
        var last = UtcHour.Containing(to);
        if (first == last || (first.Next == last && UtcHour.IsOnTheHour(to)))
        {
            if (!UtcHour.IsOnTheHour(from) || !UtcHour.IsOnTheHour(to))
            {
                yield return (first, from, to);
            }

            yield break;
        }

        if (!UtcHour.IsOnTheHour(from))
        {
            yield return (first, from, first.End);
        }

        if (!UtcHour.IsOnTheHour(to))
        {
            yield return (last, last.Start, to);
        }
    }

    /// <summary>Reads [from, to): daily views for whole UTC days before the daily watermark, hourly views for the rest.</summary>
    private async Task<List<KeyedRow>> ReadViewsAsync(
        AggregationDefinition definition,
        KeyFilter filter,
        UtcHour from,
        UtcHour to,
        UtcDay dailyWatermark,
        CancellationToken cancellationToken)
    {
        var result = new List<KeyedRow>();
        if (from >= to)
        {
            return result;
        }

        var firstDay = UtcDay.FirstStartingAtOrAfter(from);
        var endDay = new UtcDay(Math.Min(to.Index / 24, dailyWatermark.Index));
        if (firstDay < endDay)
        {
            result.AddRange(await views.ReadHoursAsync(definition, filter, from, firstDay.FirstHour, cancellationToken).ConfigureAwait(false));
            result.AddRange(await views.ReadDaysAsync(definition, filter, firstDay, endDay, cancellationToken).ConfigureAwait(false));
            result.AddRange(await views.ReadHoursAsync(definition, filter, endDay.FirstHour, to, cancellationToken).ConfigureAwait(false));
        }
        else
        {
            result.AddRange(await views.ReadHoursAsync(definition, filter, from, to, cancellationToken).ConfigureAwait(false));
        }

        return result;
    }

    /// <summary>Aggregates the events of a partial hour straight from the event store.</summary>
    private async Task ReadEdgeAsync(
        AggregationDefinition definition,
        KeyFilter filter,
        DateTimeOffset from,
        DateTimeOffset to,
        Dictionary<AggregationKey, AggregateRow> rows,
        CancellationToken cancellationToken)
    {
        if (from >= to)
        {
            return;
        }

        await foreach (var e in events.ScanAsync(definition.EventType, from, to, 0, long.MaxValue, cancellationToken).ConfigureAwait(false))
        {
            var key = definition.KeyOf(e);
            if (!filter.Matches(key))
            {
                continue;
            }

            if (!rows.TryGetValue(key, out var row))
            {
                row = definition.CreateRow();
                rows.Add(key, row);
            }

            row.Add(e);
        }
    }

    private static void MergeInto(Dictionary<AggregationKey, AggregateRow> rows, AggregationKey key, AggregateRow row)
    {
        if (rows.TryGetValue(key, out var existing))
        {
            existing.Merge(row);
        }
        else
        {
            rows.Add(key, row);
        }
    }

    private static AggregationResult Reduce(
        AggregationDefinition definition,
        AggregationQuery query,
        BatchFrontier frontier,
        Dictionary<AggregationKey, AggregateRow> rows,
        int groupIndex)
    {
        var totals = definition.CreateTotalRow();
        var groups = new Dictionary<string, AggregateRow>(StringComparer.Ordinal);
        foreach (var (key, row) in rows)
        {
            row.AddToTotal(totals);
            if (groupIndex < 0)
            {
                continue;
            }

            if (!groups.TryGetValue(key[groupIndex], out var group))
            {
                group = definition.CreateTotalRow();
                groups.Add(key[groupIndex], group);
            }

            row.AddToTotal(group);
        }

        var field = groupIndex < 0 ? string.Empty : EventFields.JsonName(definition.Key[groupIndex]);
        var sorted = groups
            .OrderByDescending(pair => pair.Value.Outputs[0].SortValue)
            .ThenBy(pair => pair.Key, StringComparer.Ordinal)
            .Take(query.Limit)
            .Select(pair => new GroupResult(field, pair.Key, pair.Value))
            .ToList();
        return new AggregationResult(definition, query, frontier, totals, sorted);
    }

    private AggregationDefinition Resolve(AggregationQuery query)
    {
        if (!catalog.TryGet(query.Aggregation, out var definition))
        {
            throw new AggregationNotFoundException(query.Aggregation, catalog.All.Select(d => d.Name).ToList());
        }

        if (query.From >= query.To)
        {
            throw new InvalidQueryException("from", $"from ({query.From:O}) must be before to ({query.To:O}).");
        }

        if (query.Limit < 1)
        {
            throw new InvalidQueryException("limit", $"limit must be 1 or more, got {query.Limit}.");
        }

        return definition;
    }

    private static KeyFilter BuildFilter(AggregationDefinition definition, AggregationQuery query)
    {
        if (string.IsNullOrEmpty(query.HubId))
        {
            throw new InvalidQueryException("hubId", "hubId is required.");
        }

        var conditions = new List<KeyCondition>();
        foreach (var (name, value) in query.KeyFilters)
        {
            var index = EventFields.TryParse(name, out var field) ? definition.IndexOfKeyField(field) : -1;
            if (index <= 0)
            {
                throw new InvalidQueryException(name, $"'{name}' is not a key field of aggregation '{definition.Name}' that can filter; its key fields after hubId are: {DescribeKeyFields(definition)}.");
            }

            conditions.Add(new KeyCondition(index, value));
        }

        return new KeyFilter(query.HubId, conditions);
    }

    private static int ResolveGroupBy(AggregationDefinition definition, string? groupBy)
    {
        if (groupBy is null)
        {
            return -1;
        }

        var index = EventFields.TryParse(groupBy, out var field) ? definition.IndexOfKeyField(field) : -1;
        if (index < 0)
        {
            throw new InvalidQueryException("groupBy", $"groupBy '{groupBy}' is not a key field of aggregation '{definition.Name}'; its key fields are: {string.Join(", ", definition.Key.Select(EventFields.JsonName))}.");
        }

        return index;
    }

    private static string DescribeKeyFields(AggregationDefinition definition) =>
        definition.Key.Count > 1 ? string.Join(", ", definition.Key.Skip(1).Select(EventFields.JsonName)) : "none";

    private static UtcHour CeilingHour(DateTimeOffset instant)
    {
        var hour = UtcHour.Containing(instant);
        return UtcHour.IsOnTheHour(instant) ? hour : hour.Next;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4001, Level = LogLevel.Debug, Message = "Query of {Aggregation} composed again after a concurrent rewrite of views (attempt {Attempt})")]
        public static partial void QueryRetried(ILogger logger, string aggregation, int attempt);
    }
}
