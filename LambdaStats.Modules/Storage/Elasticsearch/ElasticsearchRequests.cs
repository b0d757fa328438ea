using Elastic.Clients.Elasticsearch;
using Elastic.Transport;
using Elastic.Transport.Products.Elasticsearch;
using Microsoft.Extensions.Logging;

namespace LambdaStats.Modules.Storage.Elasticsearch;

/// <summary>Sends the view store's requests, retries the transient failures of idempotent ones, and turns failures into <see cref="ElasticsearchViewStoreException"/>.</summary>
internal sealed class ElasticsearchRequests(TimeProvider time, ILogger logger)
{
    /// <summary>Attempts of an idempotent request; the delays between them double from <see cref="FirstRetryDelay"/>.</summary>
    public const int MaxAttempts = 3;

    public static readonly TimeSpan FirstRetryDelay = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Sends a request with <paramref name="send"/> and returns its response when it is valid, or
    /// also when its status is one of <paramref name="acceptedStatuses"/>.
    /// </summary>
    /// <param name="idempotent">
    /// Whether sending the request twice leaves the same state, so that a transient failure can
    /// be retried. A bulk <c>create</c> is not: its first attempt may have been stored.
    /// </param>
    /// <exception cref="ElasticsearchViewStoreException">The request failed, or still failed after its retries.</exception>
    public async Task<TResponse> SendAsync<TResponse>(
        string operation,
        string index,
        Func<CancellationToken, Task<TResponse>> send,
        bool idempotent,
        CancellationToken cancellationToken,
        params int[] acceptedStatuses)
        where TResponse : ElasticsearchResponse
    {
        var delay = FirstRetryDelay;
        for (var attempt = 1; ; attempt++)
        {
            ElasticsearchViewStoreException failure;
            try
            {
                var response = await send(cancellationToken).ConfigureAwait(false);
                if (response.IsValidResponse || acceptedStatuses.Contains(response.ApiCallDetails.HttpStatusCode ?? 0))
                {
                    return response;
                }

                cancellationToken.ThrowIfCancellationRequested();
                failure = Describe(operation, index, response);
            }
            catch (TransportException exception) when (!cancellationToken.IsCancellationRequested)
            {
                failure = new ElasticsearchViewStoreException($"Elasticsearch request {operation} on index {index} failed: {exception.Message}", isTransient: true, exception);
            }
            catch (UnsupportedProductException exception)
            {
                // The server responded without the header that Elasticsearch sends on every
                // response, so the URL names another product or a proxy that drops the header.
                throw new ElasticsearchViewStoreException($"Elasticsearch request {operation} on index {index} failed: {exception.Message}", isTransient: false, exception);
            }

            if (!idempotent || !failure.IsTransient || attempt == MaxAttempts)
            {
                throw failure;
            }

            ElasticsearchViewStoreLog.Retrying(logger, failure, operation, index, attempt, MaxAttempts, delay);
            await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
            delay *= 2;
        }
    }

    /// <summary>Returns the failure of an invalid response, with the server's error type and reason when it sent one.</summary>
    internal static ElasticsearchViewStoreException Describe(string operation, string index, ElasticsearchResponse response)
    {
        var status = response.ApiCallDetails.HttpStatusCode;
        response.TryGetOriginalException(out var original);
        var reason = response.ElasticsearchServerError?.Error is { } error
            ? $"{error.Type}: {error.Reason}"
            : original?.Message ?? "no reason given";
        var transient = status is null or 429 or 502 or 503 or 504;
        var statusText = status is null ? "without a response" : $"with status {status}";
        return new ElasticsearchViewStoreException($"Elasticsearch request {operation} on index {index} failed {statusText}: {reason}", transient, original);
    }
}
