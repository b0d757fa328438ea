using Elastic.Clients.Elasticsearch;
using Elastic.Transport;
using LambdaStats.Modules.Storage.Elasticsearch;
using Microsoft.Extensions.Logging.Abstractions;

namespace LambdaStats.Tests.Storage;

/// <summary>The Elasticsearch server of the integration tests, named by an environment variable.</summary>
internal static class ElasticsearchTestServer
{
    public const string Variable = "LAMBDASTATS_TEST_ELASTICSEARCH";

    /// <summary>Returns the server's URL, or marks the test ignored when the variable is not set.</summary>
    public static Uri RequireUrl()
    {
        var value = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrWhiteSpace(value))
        {
            Assert.Ignore($"Set {Variable} to the URL of an Elasticsearch server (such as http://127.0.0.1:9200) to run the tests against it.");
        }

        return new Uri(value!, UriKind.Absolute);
    }
}

/// <summary>One request that the view store sent through a <see cref="RecordingRequestInvoker"/>.</summary>
internal sealed record RecordedRequest(string Method, string PathAndQuery, string Body);

/// <summary>
/// An <see cref="IRequestInvoker"/> that sends nothing: it records each request and returns the
/// response that a function of the request chooses, through the transport's
/// <see cref="InMemoryRequestInvoker"/>. Tests that use it check request shapes only, never how
/// Elasticsearch would respond to them.
/// </summary>
internal sealed class RecordingRequestInvoker(Func<RecordedRequest, (int Status, string Body)> respond) : IRequestInvoker
{
    private static readonly Dictionary<string, IEnumerable<string>> ProductHeader = new(StringComparer.OrdinalIgnoreCase) { ["x-elastic-product"] = ["Elasticsearch"] };

    private readonly InMemoryRequestInvoker inner = new(Array.Empty<byte>(), 200, null, "application/json", ProductHeader);

    public List<RecordedRequest> Requests { get; } = [];

    public ResponseFactory ResponseFactory => inner.ResponseFactory;

    /// <summary>Returns a store whose client sends every request to a new invoker that responds with <paramref name="respond"/>.</summary>
    public static (ElasticsearchViewStore Store, RecordingRequestInvoker Invoker) CreateStore(Func<RecordedRequest, (int Status, string Body)> respond, string prefix = "test-")
    {
        var invoker = new RecordingRequestInvoker(respond);
        var settings = new ElasticsearchClientSettings(new SingleNodePool(new Uri("http://127.0.0.1:9200")), invoker).DisableDirectStreaming();
        var store = new ElasticsearchViewStore(new ElasticsearchClient(settings), new ViewIndices(prefix), TimeProvider.System, NullLogger<ElasticsearchViewStore>.Instance);
        return (store, invoker);
    }

    public TResponse Request<TResponse>(Endpoint endpoint, BoundConfiguration boundConfiguration, PostData? postData)
        where TResponse : TransportResponse, new()
    {
        var (status, body) = Record(endpoint, boundConfiguration, postData);
        return inner.BuildResponse<TResponse>(endpoint, boundConfiguration, postData, System.Text.Encoding.UTF8.GetBytes(body), status, "application/json");
    }

    public Task<TResponse> RequestAsync<TResponse>(Endpoint endpoint, BoundConfiguration boundConfiguration, PostData? postData, CancellationToken cancellationToken)
        where TResponse : TransportResponse, new()
    {
        var (status, body) = Record(endpoint, boundConfiguration, postData);
        return inner.BuildResponseAsync<TResponse>(endpoint, boundConfiguration, postData, cancellationToken, System.Text.Encoding.UTF8.GetBytes(body), status, "application/json");
    }

    public void Dispose() => ((IDisposable)inner).Dispose();

    private (int Status, string Body) Record(Endpoint endpoint, BoundConfiguration boundConfiguration, PostData? postData)
    {
        var body = string.Empty;
        if (postData is not null)
        {
            using var stream = new MemoryStream();
            postData.Write(stream, boundConfiguration.ConnectionSettings, disableDirectStreaming: true);
            body = System.Text.Encoding.UTF8.GetString(stream.ToArray());
        }

        var request = new RecordedRequest(endpoint.Method.ToString(), endpoint.PathAndQuery, body);
        Requests.Add(request);
        return respond(request);
    }
}
