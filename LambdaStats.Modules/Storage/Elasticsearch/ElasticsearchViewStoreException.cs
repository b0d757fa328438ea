namespace LambdaStats.Modules.Storage.Elasticsearch;

/// <summary>A request of the Elasticsearch view store failed; the message names the request, the index and the server's reason.</summary>
public sealed class ElasticsearchViewStoreException : Exception
{
    public ElasticsearchViewStoreException(string message, bool isTransient, Exception? innerException = null)
        : base(message, innerException)
    {
        IsTransient = isTransient;
    }

    /// <summary>Whether the same request may succeed later: no response, or a status that means the cluster is busy or failing over (429, 502, 503, 504).</summary>
    public bool IsTransient { get; }
}
