using Elastic.Clients.Elasticsearch;
using Elastic.Clients.Elasticsearch.Aggregations;
using SearchAggregation = Elastic.Clients.Elasticsearch.Aggregations.Aggregation;
using Elastic.Clients.Elasticsearch.IndexManagement;
using Elastic.Clients.Elasticsearch.QueryDsl;
using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Common;
using LambdaStats.Modules.Storage.Sqlite;
using LambdaStats.Modules.View.Contracts;
using Microsoft.Extensions.Logging;

namespace LambdaStats.Modules.Storage.Elasticsearch;

/// <summary>
/// <see cref="IViewStore"/> on Elasticsearch. Each document of the hours and days indices contains
/// one hub of one bucket of one aggregation, with its rows encoded by <see cref="ViewBlockCodec"/>
/// in a binary field. The frontiers index contains one document per aggregation.
/// </summary>
/// <remarks>
/// Elasticsearch has no transaction across documents, so <see cref="CommitAsync"/> orders its
/// requests instead: it writes the new documents, refreshes the indices so that searches see them,
/// deletes the documents of those buckets that the commit did not write (hubs that no longer have
/// rows), and only then writes the frontier. Every write is acknowledged once it is in the
/// translog, which Elasticsearch syncs before it responds with <c>index.translog.durability:
/// request</c>, the default of its translog settings. The setting <c>async</c> would break the
/// durability that the port promises. See <see cref="CommitAsync"/> for what a failure part
/// way leaves.
/// </remarks>
internal sealed partial class ElasticsearchViewStore : IViewStore
{
    /// <summary>Documents read per search request; reads page through more with <c>search_after</c>.</summary>
    internal const int PageSize = 1000;

    /// <summary>Strings kept by the pool of one read: enough for the media of a large hub.</summary>
    private const int PooledStringsPerRead = 100_000;

    /// <summary>Index of the day after the day of <see cref="UtcHour.MaxValue"/>.</summary>
    private static readonly long DayIndexLimit = UtcHour.MaxValue.Index / 24 + 1;

    private readonly ElasticsearchClient client;
    private readonly ViewIndices indices;
    private readonly ElasticsearchRequests requests;
    private readonly ILogger logger;
    private readonly SemaphoreSlim setupLock = new(1, 1);
    private volatile bool indicesReady;

    public ElasticsearchViewStore(ElasticsearchClient client, ViewIndices indices, TimeProvider time, ILogger<ElasticsearchViewStore> logger)
    {
        this.client = client;
        this.indices = indices;
        this.logger = logger;
        requests = new ElasticsearchRequests(time, logger);
    }

    internal ViewIndices Indices => indices;

    /// <summary>Creates the indices that do not exist yet, with their mappings, and does nothing once they all exist.</summary>
    /// <remarks>Every method calls it first, so the store also works when the cluster was down at startup.</remarks>
    public async Task EnsureIndicesAsync(CancellationToken cancellationToken)
    {
        if (indicesReady)
        {
            return;
        }

        await setupLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!indicesReady)
            {
                foreach (var index in indices.All)
                {
                    await CreateIndexAsync(index, cancellationToken).ConfigureAwait(false);
                }

                indicesReady = true;
            }
        }
        finally
        {
            setupLock.Release();
        }
    }

    public async Task<BatchFrontier> GetFrontierAsync(string aggregation, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(aggregation);
        await EnsureIndicesAsync(cancellationToken).ConfigureAwait(false);
        return await ReadFrontierAsync(aggregation, cancellationToken).ConfigureAwait(false);
    }

    /// <remarks>
    /// A failure, or a stop of the process, between the first write and the frontier leaves the
    /// old frontier with some buckets already replaced, and possibly documents of removed hubs
    /// not yet deleted. For the hours at or after the stored watermark that is safe: readers do
    /// not read them, and the next run computes those hours again and rewrites the same
    /// documents, which is idempotent.
    /// NOTE: an hour or day before the watermark that the commit rewrites for late events is
    /// read at once. Until the next run commits, a query of a hub whose document was already
    /// replaced counts those late events twice. The new document contains them, and the speed
    /// layer keeps them too, because the frontier's sequence did not move. SQLite's single
    /// transaction has no such window.
    /// </remarks>
    public async Task CommitAsync(
        AggregationDefinition aggregation,
        IReadOnlyList<BucketRows<UtcHour>> hours,
        IReadOnlyList<BucketRows<UtcDay>> days,
        BatchFrontier frontier,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(aggregation);
        ArgumentNullException.ThrowIfNull(hours);
        ArgumentNullException.ThrowIfNull(days);
        ArgumentNullException.ThrowIfNull(frontier);
        await EnsureIndicesAsync(cancellationToken).ConfigureAwait(false);

        var write = Guid.NewGuid().ToString("N");
        try
        {
            var hourly = new BlockWriter(this, indices.Hours, aggregation, write, "hours");
            foreach (var bucket in hours)
            {
                await hourly.WriteBucketAsync(bucket.Bucket.Index, bucket.Rows, cancellationToken).ConfigureAwait(false);
            }

            await hourly.FlushAsync(cancellationToken).ConfigureAwait(false);

            var daily = new BlockWriter(this, indices.Days, aggregation, write, "days");
            foreach (var bucket in days)
            {
                await daily.WriteBucketAsync(bucket.Bucket.Index, bucket.Rows, cancellationToken).ConfigureAwait(false);
            }

            await daily.FlushAsync(cancellationToken).ConfigureAwait(false);

            // The deletes search for documents of another write, so the documents just written
            // must be searchable first. Before the refresh, a search still finds the old version of
            // a replaced document, and the delete by query API reports a version conflict for a
            // document that changed since its search (Elasticsearch reference, delete by query).
            long deleted = 0;
            if (hours.Count > 0)
            {
                await RefreshAsync(indices.Hours, cancellationToken).ConfigureAwait(false);
                deleted += await DeleteOtherWritesAsync(indices.Hours, aggregation.ViewId, hours.Select(bucket => bucket.Bucket.Index), write, cancellationToken).ConfigureAwait(false);
            }

            if (days.Count > 0)
            {
                await RefreshAsync(indices.Days, cancellationToken).ConfigureAwait(false);
                deleted += await DeleteOtherWritesAsync(indices.Days, aggregation.ViewId, days.Select(bucket => bucket.Bucket.Index), write, cancellationToken).ConfigureAwait(false);
            }

            await WriteFrontierAsync(aggregation.ViewId, frontier, cancellationToken).ConfigureAwait(false);
            ElasticsearchViewStoreLog.ViewsCommitted(logger, aggregation.Name, hours.Count, days.Count, hourly.RowCount + daily.RowCount, hourly.DocumentCount + daily.DocumentCount, deleted);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            ElasticsearchViewStoreLog.CommitFailed(logger, exception, aggregation.Name);
            throw;
        }
    }

    /// <remarks>
    /// With <paramref name="replace"/>, the hour's documents are deleted first. The part's
    /// documents are then written with the bulk <c>create</c> action, which fails for a hub that
    /// already has a document in the hour, as the port requires. The part ends with a refresh,
    /// so that a later part with <paramref name="replace"/> finds and deletes it.
    /// </remarks>
    public async Task WriteHourPartAsync(AggregationDefinition aggregation, BucketRows<UtcHour> rows, bool replace, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(aggregation);
        ArgumentNullException.ThrowIfNull(rows);
        await EnsureIndicesAsync(cancellationToken).ConfigureAwait(false);

        // A get by id returns the latest write of the frontier, even before a refresh.
        var frontier = await ReadFrontierAsync(aggregation.ViewId, cancellationToken).ConfigureAwait(false);
        if (!frontier.IsInitial && rows.Bucket < frontier.Watermark)
        {
            throw new InvalidOperationException(
                $"Hour {rows.Bucket} of aggregation '{aggregation.Name}' is before its watermark {frontier.Watermark}, where readers would see a part of it. Replace such an hour whole with CommitAsync.");
        }

        if (replace)
        {
            await DeleteOtherWritesAsync(indices.Hours, aggregation.ViewId, [rows.Bucket.Index], write: null, cancellationToken).ConfigureAwait(false);
        }

        var writer = new BlockWriter(this, indices.Hours, aggregation, Guid.NewGuid().ToString("N"), "rows", create: true);
        await writer.WriteBucketAsync(rows.Bucket.Index, rows.Rows, cancellationToken).ConfigureAwait(false);
        await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
        await RefreshAsync(indices.Hours, cancellationToken).ConfigureAwait(false);
        ElasticsearchViewStoreLog.HourPartWritten(logger, aggregation.Name, rows.Bucket.Start, replace, writer.RowCount);
    }

    public Task<IReadOnlyList<KeyedRow>> ReadHoursAsync(AggregationDefinition aggregation, KeyFilter filter, UtcHour from, UtcHour to, CancellationToken cancellationToken) =>
        ReadRowsAsync(indices.Hours, aggregation, filter, from.Index, to.Index, cancellationToken);

    public Task<IReadOnlyList<KeyedRow>> ReadDaysAsync(AggregationDefinition aggregation, KeyFilter filter, UtcDay from, UtcDay to, CancellationToken cancellationToken) =>
        ReadRowsAsync(indices.Days, aggregation, filter, from.Index, to.Index, cancellationToken);

    /// <remarks>
    /// A histogram of the hours with an interval of 24 has one bucket per day that has documents.
    /// NOTE: the search returns at most <c>search.max_buckets</c> days (65,536 by default, about
    /// 179 years), and fails beyond.
    /// </remarks>
    public async Task<IReadOnlyList<UtcDay>> GetDaysWithHourlyRowsAsync(AggregationDefinition aggregation, UtcDay from, UtcDay to, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(aggregation);
        cancellationToken.ThrowIfCancellationRequested();
        if (to <= from)
        {
            return [];
        }

        await EnsureIndicesAsync(cancellationToken).ConfigureAwait(false);
        var request = new SearchRequest(indices.Hours)
        {
            Size = 0,
            Query = BucketRange(aggregation.ViewId, hub: null, FirstHourIndex(from.Index), FirstHourIndex(to.Index)),
            Aggregations = new Dictionary<string, SearchAggregation>
            {
                ["days"] = new HistogramAggregation { Field = "bucket", Interval = 24, MinDocCount = 1 },
            },
        };
        var response = await requests.SendAsync(
            "search (days with hourly rows)",
            indices.Hours,
            token => client.SearchAsync<BlockDocument>(request, token),
            idempotent: true,
            cancellationToken).ConfigureAwait(false);

        var buckets = response.Aggregations?.GetHistogram("days")?.Buckets ?? [];
        return buckets
            .Where(bucket => bucket.DocCount > 0)
            .Select(bucket => new UtcDay((long)bucket.Key / 24))
            .OrderBy(day => day)
            .ToList();
    }

    public async Task<IReadOnlyList<BucketRows<UtcHour>>> ReadDayHoursAsync(AggregationDefinition aggregation, UtcDay day, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(aggregation);
        await EnsureIndicesAsync(cancellationToken).ConfigureAwait(false);

        var strings = new Utf8StringPool(PooledStringsPerRead);
        var result = new List<BucketRows<UtcHour>>();
        Dictionary<AggregationKey, AggregateRow>? rows = null;
        Action<AggregationKey, AggregateRow> add = (key, row) => rows!.Add(key, row);
        long currentHour = -1;
        var query = BucketRange(aggregation.ViewId, hub: null, FirstHourIndex(day.Index), FirstHourIndex(Math.Min(day.Index, DayIndexLimit) + 1));
        await foreach (var hit in SearchAllAsync(indices.Hours, query, byHub: true, cancellationToken).ConfigureAwait(false))
        {
            if (rows is null || hit.Bucket != currentHour)
            {
                rows = new Dictionary<AggregationKey, AggregateRow>();
                currentHour = hit.Bucket;
                result.Add(new BucketRows<UtcHour>(new UtcHour(hit.Bucket), rows));
            }

            ViewBlockCodec.Read(hit.Block, aggregation, hit.Hub, null, strings, add);
        }

        return result;
    }

    /// <summary>Returns the index of the first hour of day <paramref name="dayIndex"/>, capped just past the last valid hour.</summary>
    private static long FirstHourIndex(long dayIndex) => Math.Min(dayIndex, DayIndexLimit) * 24;

    /// <summary>A filter on one aggregation, optionally one hub, and buckets in [<paramref name="from"/>, <paramref name="to"/>).</summary>
    private static Query BucketRange(string viewId, string? hub, long from, long to)
    {
        var filters = new List<Query>
        {
            new TermQuery("aggregation", viewId),
            new LongNumberRangeQuery("bucket") { Gte = from, Lt = to },
        };
        if (hub is not null)
        {
            filters.Add(new TermQuery("hub", hub));
        }

        return new BoolQuery { Filter = filters };
    }

    private async Task<IReadOnlyList<KeyedRow>> ReadRowsAsync(string index, AggregationDefinition aggregation, KeyFilter filter, long from, long to, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(aggregation);
        ArgumentNullException.ThrowIfNull(filter);
        cancellationToken.ThrowIfCancellationRequested();
        if (!ViewBlockChecks.TryPrepareRead(aggregation, filter, from, to, out var conditions))
        {
            return [];
        }

        await EnsureIndicesAsync(cancellationToken).ConfigureAwait(false);
        var strings = new Utf8StringPool(PooledStringsPerRead);
        var result = new List<KeyedRow>();
        Action<AggregationKey, AggregateRow> add = (key, row) => result.Add(new KeyedRow(key, row));
        await foreach (var hit in SearchAllAsync(index, BucketRange(aggregation.ViewId, filter.HubId, from, to), byHub: false, cancellationToken).ConfigureAwait(false))
        {
            ViewBlockCodec.Read(hit.Block, aggregation, filter.HubId, conditions, strings, add);
        }

        return result;
    }
}
