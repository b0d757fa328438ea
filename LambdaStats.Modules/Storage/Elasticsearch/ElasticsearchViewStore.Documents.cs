using System.Runtime.CompilerServices;
using Elastic.Clients.Elasticsearch;
using Elastic.Clients.Elasticsearch.IndexManagement;
using Elastic.Clients.Elasticsearch.QueryDsl;
using LambdaStats.Modules.View.Contracts;
using LambdaStats.Modules.Common;

namespace LambdaStats.Modules.Storage.Elasticsearch;

/// <summary>The requests on single documents and indices.</summary>
internal sealed partial class ElasticsearchViewStore
{
    /// <summary>Buckets named by one delete request, well below the 65,536 terms that Elasticsearch accepts in a terms query.</summary>
    private const int BucketsPerDelete = 1024;

    private async Task CreateIndexAsync(string index, CancellationToken cancellationToken)
    {
        var exists = await requests.SendAsync(
            "exists",
            index,
            token => client.Indices.ExistsAsync(new Elastic.Clients.Elasticsearch.IndexManagement.ExistsRequest(index), token),
            idempotent: true,
            cancellationToken,
            404).ConfigureAwait(false);
        if (exists.Exists)
        {
            return;
        }

        var created = await requests.SendAsync(
            "create index",
            index,
            token => client.Indices.CreateAsync(indices.CreateRequest(index), token),
            idempotent: true,
            cancellationToken,
            400).ConfigureAwait(false);
        if (created.IsValidResponse)
        {
            ElasticsearchViewStoreLog.IndexCreated(logger, index);
            return;
        }

        // Another process that shares the cluster created it between the two requests.
        if (created.ElasticsearchServerError?.Error is { Type: "resource_already_exists_exception" } error)
        {
            ElasticsearchViewStoreLog.IndexCreatedElsewhere(logger, index, error.Reason ?? error.Type);
            return;
        }

        throw ElasticsearchRequests.Describe("create index", index, created);
    }

    private async Task<BatchFrontier> ReadFrontierAsync(string viewId, CancellationToken cancellationToken)
    {
        var response = await requests.SendAsync(
            "get frontier",
            indices.Frontiers,
            token => client.GetAsync<FrontierDocument>(new GetRequest(indices.Frontiers, ViewDocumentIds.Frontier(viewId)), token),
            idempotent: true,
            cancellationToken,
            404).ConfigureAwait(false);
        if (!response.Found || response.Source is not { } document)
        {
            return BatchFrontier.Initial;
        }

        return new BatchFrontier(new UtcHour(document.WatermarkHour), document.Sequence, new UtcDay(document.DailyWatermarkDay));
    }

    private async Task WriteFrontierAsync(string viewId, BatchFrontier frontier, CancellationToken cancellationToken)
    {
        var document = new FrontierDocument
        {
            Aggregation = viewId,
            WatermarkHour = frontier.Watermark.Index,
            Sequence = frontier.Sequence,
            DailyWatermarkDay = frontier.DailyWatermark.Index,
        };

        // Readers get the frontier by id, which returns the latest write without a refresh, so
        // the commit does not wait for one.
        var request = new IndexRequest<FrontierDocument>(document, indices.Frontiers, ViewDocumentIds.Frontier(viewId));
        await requests.SendAsync("index frontier", indices.Frontiers, token => client.IndexAsync(request, token), idempotent: true, cancellationToken).ConfigureAwait(false);
    }

    private async Task RefreshAsync(string index, CancellationToken cancellationToken) =>
        await requests.SendAsync("refresh", index, token => client.Indices.RefreshAsync(new RefreshRequest(index), token), idempotent: true, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Deletes the documents of <paramref name="buckets"/> of one aggregation whose write is not
    /// <paramref name="write"/> (all of them when it is null), refreshes the index, and returns how
    /// many it deleted.
    /// </summary>
    /// <remarks>A delete by query finds only the documents that the last refresh made searchable.</remarks>
    private async Task<long> DeleteOtherWritesAsync(string index, string viewId, IEnumerable<long> buckets, string? write, CancellationToken cancellationToken)
    {
        long deleted = 0;
        foreach (var chunk in buckets.Distinct().Chunk(BucketsPerDelete))
        {
            var query = new BoolQuery
            {
                Filter =
                [
                    new TermQuery("aggregation", viewId),
                    new TermsQuery("bucket", new TermsQueryField(chunk.Select(bucket => FieldValue.Long(bucket)).ToArray())),
                ],
                MustNot = write is null ? null : [new TermQuery("write", write)],
            };
            var request = new DeleteByQueryRequest(index) { Query = query, Refresh = true, Conflicts = Conflicts.Abort };
            var response = await requests.SendAsync("delete by query", index, token => client.DeleteByQueryAsync(request, token), idempotent: true, cancellationToken).ConfigureAwait(false);
            if (response.Failures is { Count: > 0 } failures || response.TimedOut == true)
            {
                var first = response.Failures?.FirstOrDefault()?.Cause;
                throw new ElasticsearchViewStoreException(
                    $"Elasticsearch request delete by query on index {index} failed on {response.Failures?.Count ?? 0} documents (timed out: {response.TimedOut == true}): {first?.Type}: {first?.Reason}",
                    isTransient: response.TimedOut == true);
            }

            deleted += response.Deleted ?? 0;
        }

        return deleted;
    }

    /// <summary>
    /// Returns every document that <paramref name="query"/> matches, in bucket order (then hub
    /// order with <paramref name="byHub"/>), one page of <see cref="PageSize"/> at a time.
    /// </summary>
    /// <remarks>
    /// Pages follow each other with <c>search_after</c> on the sort values, which are unique:
    /// one document per aggregation, bucket and hub. A read of several pages is not one snapshot.
    /// The query service needs none: a bucket before the watermark changes only in a commit that
    /// rewrites it, and such a commit makes queries wait and start again.
    /// </remarks>
    private async IAsyncEnumerable<BlockDocument> SearchAllAsync(string index, Query query, bool byHub, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ICollection<FieldValue>? after = null;
        while (true)
        {
            var request = new SearchRequest(index)
            {
                Query = query,
                Size = PageSize,
                Sort = byHub
                    ? [new SortOptions { Field = new FieldSort("bucket") { Order = SortOrder.Asc } }, new SortOptions { Field = new FieldSort("hub") { Order = SortOrder.Asc } }]
                    : [new SortOptions { Field = new FieldSort("bucket") { Order = SortOrder.Asc } }],
                SearchAfter = after,
                TrackTotalHits = new Elastic.Clients.Elasticsearch.Core.Search.TrackHits(false),
            };
            var response = await requests.SendAsync("search", index, token => client.SearchAsync<BlockDocument>(request, token), idempotent: true, cancellationToken).ConfigureAwait(false);
            var hits = response.Hits;
            foreach (var hit in hits)
            {
                if (hit.Source is { } document)
                {
                    yield return document;
                }
            }

            if (hits.Count < PageSize)
            {
                yield break;
            }

            after = hits.Last().Sort?.ToList();
        }
    }
}
