using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Common;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.Speed.Contracts;
using LambdaStats.Modules.View.Cache;
using LambdaStats.Modules.View.Contracts;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace LambdaStats.Modules.View;

/// <summary>
/// Composes an answer as batch views for whole hours before the watermark, plus speed buffers,
/// plus the event store for partial hours that the buffers cannot answer.
/// </summary>
/// <remarks>
/// The watermark and the speed rows come from one snapshot. Views before the watermark change
/// only when a batch rewrites hours that received late events; the speed layer flags such a
/// rewrite, and a query that overlapped one is composed again.
/// View buckets come decoded by column from the view cache when the host registered it, and are
/// read from the store for this query alone otherwise. The period's rows are merged by key id in
/// arrays, and each series point adds its own buckets and rows straight into its totals.
/// </remarks>
internal sealed partial class AggregationQueryService(
    AggregationCatalog catalog,
    ISpeedLayer speed,
    IViewStore views,
    IEventStore events,
    ILogger<AggregationQueryService> logger) : IAggregationQueries
{
    public const int MaxSeriesBuckets = 10_000;
    private const int MaxAttempts = 20;

    private readonly IHubBucketSource bucketSource = views as IHubBucketSource
        ?? new CachedViewStore(views, new ViewCacheOptions { MaxMegabytes = 0 }, NullLogger<CachedViewStore>.Instance);

    public async Task<AggregationResult> QueryAsync(AggregationQuery query, CancellationToken cancellationToken)
    {
        var definition = Resolve(query);
        var filter = BuildFilter(definition, query);
        var groupIndex = ResolveGroupBy(definition, query.GroupBy);
        var buckets = query.Bucket is { } bucket
            ? SeriesBuckets.Split(query.From, query.To, query.TimeZone ?? TimeZoneInfo.Utc, bucket, MaxSeriesBuckets)
            : [(query.From, query.To)];

        await speed.WhenReadyAsync(cancellationToken).ConfigureAwait(false);
        var composed = await ComposeAsync(definition, filter, buckets, query.Bucket is not null, cancellationToken).ConfigureAwait(false);
        var (totals, groups) = composed.Period.Reduce(filter, groupIndex, query.Limit);
        var series = composed.Points
            .Select((point, i) => new SeriesPoint(buckets[i].From, point.Total))
            .ToList();
        return new AggregationResult(definition, query, composed.Frontier, totals, groups, series, composed.IncludesLateEvents, composed.ProvisionalFrom);
    }

    /// <summary>
    /// Reads the rows of every bucket from one speed snapshot and the views before its watermark.
    /// A whole hour comes from the views (before the watermark) and the speed buffers (late events
    /// before it, everything at or after it). A partial hour comes from the speed buffers when they
    /// hold all of that hour and every buffered event of it lies inside the bucket (the usual "until
    /// now" case), and from the event store otherwise.
    /// </summary>
    private async Task<Composition> ComposeAsync(
        AggregationDefinition definition,
        KeyFilter filter,
        IReadOnlyList<(DateTimeOffset From, DateTimeOffset To)> buckets,
        bool series,
        CancellationToken cancellationToken)
    {
        var first = UtcHour.Containing(buckets[0].From);
        var end = CeilingHour(buckets[^1].To);
        for (var attempt = 1; ; attempt++)
        {
            var snapshot = speed.TakeSnapshot(definition, filter, first, end);
            if (snapshot.RewriteInProgress)
            {
                await speed.WaitForRewriteAsync(definition.Name, cancellationToken).ConfigureAwait(false);
                continue;
            }

            var watermark = snapshot.Frontier.Watermark;
            var viewBuckets = new List<List<HubBucket>>(buckets.Count);
            foreach (var (from, to) in buckets)
            {
                var wholeFrom = CeilingHour(from);
                var wholeTo = UtcHour.Min(UtcHour.Containing(to), watermark);
                viewBuckets.Add(wholeFrom < wholeTo
                    ? await ReadViewsAsync(definition, filter.HubId, wholeFrom, wholeTo, snapshot.Frontier.DailyWatermark, cancellationToken).ConfigureAwait(false)
                    : []);
            }

            if (!speed.IsStillValid(snapshot))
            {
                Log.QueryRetried(logger, definition.Name, attempt);
                if (attempt >= MaxAttempts)
                {
                    throw new TimeoutException($"Aggregation '{definition.Name}': views kept changing during {MaxAttempts} attempts to read them; retry the query.");
                }

                continue;
            }

            return await AssembleAsync(definition, filter, buckets, series, snapshot, viewBuckets, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<Composition> AssembleAsync(
        AggregationDefinition definition,
        KeyFilter filter,
        IReadOnlyList<(DateTimeOffset From, DateTimeOffset To)> buckets,
        bool series,
        SpeedSnapshot snapshot,
        List<List<HubBucket>> viewBuckets,
        CancellationToken cancellationToken)
    {
        var watermark = snapshot.Frontier.Watermark;
        var speedByHour = snapshot.Rows.GroupBy(row => row.Hour).ToDictionary(group => group.Key, group => group.ToList());
        var kinds = ColumnLayout.Of(definition);
        var index = bucketSource.IndexOf(definition, filter.HubId);
        var period = new ColumnarAnswer(definition, kinds, index);
        var allViews = viewBuckets.SelectMany(views => views).ToList();
        var known = bucketSource.FindPrefix(definition, filter.HubId, allViews);
        if (period.AddViews(allViews, known) is { } prefix && !ReferenceEquals(prefix, known))
        {
            bucketSource.KeepPrefix(definition, filter.HubId, prefix);
        }

        var points = new List<BucketTotals>();
        var includesLate = false;
        DateTimeOffset? provisionalFrom = null;
        for (var i = 0; i < buckets.Count; i++)
        {
            var (from, to) = buckets[i];
            BucketTotals? point = null;
            if (series)
            {
                point = new BucketTotals(definition, kinds, index, filter);
                foreach (var bucket in viewBuckets[i])
                {
                    point.Add(bucket);
                }

                points.Add(point);
            }

            var sink = new RowSink(period, point);
            var wholeFrom = CeilingHour(from);
            var wholeTo = UtcHour.Containing(to);
            var speedHours = speedByHour.Keys.Where(hour => hour >= wholeFrom && hour < wholeTo).ToList();
            foreach (var (hour, edgeFrom, edgeTo) in PartialHours(from, to))
            {
                var served = hour >= watermark
                    && (!snapshot.HourBounds.TryGetValue(hour, out var bounds) || bounds.IsWithin(edgeFrom, edgeTo));
                if (served)
                {
                    speedHours.Add(hour);
                }
                else
                {
                    await ReadEdgeAsync(definition, filter, edgeFrom, edgeTo, sink, cancellationToken).ConfigureAwait(false);
                    provisionalFrom ??= edgeFrom;

                    // The store read counts every event of the part, so it counts the late events
                    // that the speed layer buffers for this batched hour when their times overlap it.
                    includesLate |= hour < watermark
                        && speedByHour.ContainsKey(hour)
                        && snapshot.HourBounds.TryGetValue(hour, out var late)
                        && late.Earliest < edgeTo
                        && late.Latest >= edgeFrom;
                }
            }

            foreach (var hour in speedHours)
            {
                if (!speedByHour.TryGetValue(hour, out var hourRows))
                {
                    continue;
                }

                includesLate |= hour < watermark;
                provisionalFrom = Earliest(provisionalFrom, UtcHour.Max(hour, UtcHour.Containing(from)).Start);
                foreach (var row in hourRows)
                {
                    sink.Add(row.Key, row.Row);
                }
            }
        }

        var periodEnd = buckets[^1].To;
        if (periodEnd > watermark.Start)
        {
            provisionalFrom = Earliest(provisionalFrom, watermark.Start > buckets[0].From ? watermark.Start : buckets[0].From);
        }

        return new Composition(snapshot.Frontier, period, points, includesLate, provisionalFrom);
    }

    /// <summary>Reads [from, to) of one hub: daily views for whole UTC days before the daily watermark, hourly views for the rest.</summary>
    private async Task<List<HubBucket>> ReadViewsAsync(
        AggregationDefinition definition,
        string hubId,
        UtcHour from,
        UtcHour to,
        UtcDay dailyWatermark,
        CancellationToken cancellationToken)
    {
        var result = new List<HubBucket>();
        var firstDay = UtcDay.FirstStartingAtOrAfter(from);
        var endDay = new UtcDay(Math.Min(to.Index / 24, dailyWatermark.Index));
        if (firstDay < endDay)
        {
            await ReadHoursAsync(definition, hubId, from, firstDay.FirstHour, result, cancellationToken).ConfigureAwait(false);
            for (var day = firstDay; day < endDay; day = day.Next)
            {
                result.Add(await bucketSource.ReadAsync(definition, BucketKind.Day, day.Index, hubId, cancellationToken).ConfigureAwait(false));
            }

            await ReadHoursAsync(definition, hubId, endDay.FirstHour, to, result, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await ReadHoursAsync(definition, hubId, from, to, result, cancellationToken).ConfigureAwait(false);
        }

        return result;
    }

    private async Task ReadHoursAsync(AggregationDefinition definition, string hubId, UtcHour from, UtcHour to, List<HubBucket> result, CancellationToken cancellationToken)
    {
        for (var hour = from; hour < to; hour = hour.Next)
        {
            result.Add(await bucketSource.ReadAsync(definition, BucketKind.Hour, hour.Index, hubId, cancellationToken).ConfigureAwait(false));
        }
    }

    /// <summary>Aggregates the events of a partial hour straight from the event store.</summary>
    private async Task ReadEdgeAsync(
        AggregationDefinition definition,
        KeyFilter filter,
        DateTimeOffset from,
        DateTimeOffset to,
        RowSink sink,
        CancellationToken cancellationToken)
    {
        var rows = new Dictionary<AggregationKey, AggregateRow>();
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

        foreach (var (key, row) in rows)
        {
            sink.Add(key, row);
        }
    }

    /// <summary>Hours that [from, to) covers only in part, with the part it covers.</summary>
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

    private AggregationDefinition Resolve(AggregationQuery query)
    {
        if (!catalog.TryGet(query.Aggregation, out var definition))
        {
            throw new AggregationNotFoundException(query.Aggregation, catalog.All.Select(d => d.Name).ToList());
        }

        if (query.From >= query.To)
        {
            throw new InvalidQueryException("from", $"from ({Iso(query.From)}) must be before to ({Iso(query.To)}).");
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

    private static DateTimeOffset Earliest(DateTimeOffset? known, DateTimeOffset candidate) =>
        known is { } value && value < candidate ? value : candidate;

    /// <summary>Formats an instant in UTC as the API writes it: 2026-01-10T00:00:00Z, with fractions only when present.</summary>
    private static string Iso(DateTimeOffset instant) =>
        instant.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", System.Globalization.CultureInfo.InvariantCulture);

    private static UtcHour CeilingHour(DateTimeOffset instant)
    {
        var hour = UtcHour.Containing(instant);
        return UtcHour.IsOnTheHour(instant) ? hour : hour.Next;
    }

    /// <summary>The merged rows of the period, the totals of each series point, and the completeness fields of the result.</summary>
    private sealed record Composition(
        BatchFrontier Frontier,
        ColumnarAnswer Period,
        List<BucketTotals> Points,
        bool IncludesLateEvents,
        DateTimeOffset? ProvisionalFrom);

    /// <summary>Adds a row from the speed layer or the event store to the period and to its series point, if any.</summary>
    private readonly struct RowSink(ColumnarAnswer period, BucketTotals? point)
    {
        public void Add(AggregationKey key, AggregateRow row)
        {
            period.Add(key, row);
            point?.Add(key, row);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4001, Level = LogLevel.Debug, Message = "Query of {Aggregation} composed again after a concurrent rewrite of views (attempt {Attempt})")]
        public static partial void QueryRetried(ILogger logger, string aggregation, int attempt);
    }
}
