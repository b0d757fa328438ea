using Elastic.Clients.Elasticsearch;
using Elastic.Clients.Elasticsearch.Core.Bulk;
using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Storage.Sqlite;

namespace LambdaStats.Modules.Storage.Elasticsearch;

/// <summary>Writes buckets of one aggregation into one index, one document per hub, in bulk requests of bounded size.</summary>
internal sealed partial class ElasticsearchViewStore
{
    /// <summary>Documents per bulk request.</summary>
    internal const int DocumentsPerBulk = 500;

    /// <summary>
    /// Block bytes per bulk request; base64 makes the body a third larger, well below the 100 MB
    /// that Elasticsearch accepts by default (<c>http.max_content_length</c>).
    /// NOTE: one hub's block goes in one document whatever its size, so a hub whose rows of one
    /// bucket pass that limit cannot be stored.
    /// </summary>
    internal const int BlockBytesPerBulk = 8 * 1024 * 1024;

    private sealed class BlockWriter(ElasticsearchViewStore store, string index, AggregationDefinition aggregation, string write, string parameterName, bool create = false)
    {
        private readonly Action<long, AggregationKey, AggregateRow> validate = ViewBlockChecks.RowValidator(aggregation, parameterName);
        private readonly ViewBlockBuffer buffer = new();
        private readonly List<IBulkOperation> pending = [];
        private long pendingBytes;

        public int RowCount { get; private set; }

        public int DocumentCount { get; private set; }

        /// <summary>Queues one document per hub of <paramref name="rows"/>, sending a bulk request whenever one is full.</summary>
        public async Task WriteBucketAsync(long bucket, IReadOnlyDictionary<AggregationKey, AggregateRow> rows, CancellationToken cancellationToken)
        {
            foreach (var (hub, hubRows) in HubBlocks.GroupByHub(rows, (key, row) => validate(bucket, key, row)))
            {
                buffer.Clear();
                ViewBlockCodec.Write(buffer, hubRows);
                var document = new BlockDocument
                {
                    Aggregation = aggregation.ViewId,
                    Bucket = bucket,
                    Hub = hub,
                    KeyCount = hubRows.Count,
                    Write = write,
                    Block = buffer.Written.ToArray(),
                };
                var id = ViewDocumentIds.Block(aggregation.ViewId, bucket, hub);
                pending.Add(create
                    ? new BulkCreateOperation<BlockDocument>(document) { Id = id }
                    : new BulkIndexOperation<BlockDocument>(document) { Id = id });
                pendingBytes += document.Block.Length;
                RowCount += hubRows.Count;
                DocumentCount++;
                if (pending.Count >= DocumentsPerBulk || pendingBytes >= BlockBytesPerBulk)
                {
                    await FlushAsync(cancellationToken).ConfigureAwait(false);
                }
            }
        }

        /// <summary>Sends the queued documents, if any.</summary>
        /// <exception cref="ElasticsearchViewStoreException">The request or one of its documents failed.</exception>
        public async Task FlushAsync(CancellationToken cancellationToken)
        {
            if (pending.Count == 0)
            {
                return;
            }

            var request = new BulkRequest(index) { Operations = [.. pending] };
            var operation = create ? "bulk create" : "bulk index";

            // The client marks a bulk response with a failed item as invalid. Status 200 is
            // accepted here, so the items' own errors are reported below.
            var response = await store.requests.SendAsync(operation, index, token => store.client.BulkAsync(request, token), idempotent: !create, cancellationToken, 200).ConfigureAwait(false);
            if (response.Errors)
            {
                var failed = response.ItemsWithErrors.ToList();
                var first = failed[0];
                throw new ElasticsearchViewStoreException(
                    $"Elasticsearch request {operation} on index {index} failed for {failed.Count} of {pending.Count} documents of aggregation '{aggregation.Name}'. The first, {first.Id}, failed with status {first.Status}: {first.Error?.Type}: {first.Error?.Reason}",
                    isTransient: failed.All(item => item.Status == 429));
            }

            pending.Clear();
            pendingBytes = 0;
        }
    }
}
