namespace LambdaStats.Modules.Storage.Elasticsearch;

/// <summary>Connection to the Elasticsearch cluster that stores the batch views, bound from <c>Storage:Elasticsearch</c>.</summary>
public sealed class ElasticsearchViewStoreOptions
{
    /// <summary>
    /// Characters that Elasticsearch rejects in an index name, besides upper case letters, as the
    /// create index API's reference lists them; ':' is rejected since Elasticsearch 7.0.
    /// </summary>
    private static readonly char[] ForbiddenIndexCharacters = ['\\', '/', '*', '?', '"', '<', '>', '|', ' ', ',', '#', ':'];

    /// <summary>Longest prefix, so that the longest index name stays under Elasticsearch's limit of 255 bytes.</summary>
    private const int MaxIndexPrefixBytes = 200;

    /// <summary>Address of one node, such as <c>http://127.0.0.1:9200</c>; http or https, without credentials. No default.</summary>
    public string? Url { get; set; }

    /// <summary>An API key in the encoded form that Elasticsearch returns (<c>encoded</c>). Never logged.</summary>
    public string? ApiKey { get; set; }

    /// <summary>User for basic authentication, with <see cref="Password"/>; the alternative to <see cref="ApiKey"/>.</summary>
    public string? Username { get; set; }

    /// <summary>Never logged. Set it from an environment variable (<c>Storage__Elasticsearch__Password</c>) rather than a file.</summary>
    public string? Password { get; set; }

    /// <summary>Start of the names of the three indices of the views, so that several deployments can share a cluster. Default <c>lambdastats-</c>.</summary>
    public string IndexPrefix { get; set; } = "lambdastats-";

    /// <summary>Returns <see cref="Url"/> as an absolute URI; call after <see cref="Check"/>.</summary>
    public Uri ResolveUrl() => new(Url!, UriKind.Absolute);

    /// <exception cref="InvalidOperationException">A value is missing or invalid; the message names the setting.</exception>
    internal void Check()
    {
        if (string.IsNullOrWhiteSpace(Url))
        {
            throw new InvalidOperationException("Storage:Elasticsearch:Url is empty; set the address of an Elasticsearch node, for example http://127.0.0.1:9200.");
        }

        if (!Uri.TryCreate(Url, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            throw new InvalidOperationException($"Storage:Elasticsearch:Url must be an absolute http or https address, such as http://127.0.0.1:9200, not '{Url}'.");
        }

        // The address appears in logs and error messages, so it must not carry a password.
        if (!string.IsNullOrEmpty(url.UserInfo))
        {
            throw new InvalidOperationException("Storage:Elasticsearch:Url contains credentials; remove them from the address and set Storage:Elasticsearch:ApiKey, or Username and Password.");
        }

        if (!string.IsNullOrEmpty(ApiKey) && (!string.IsNullOrEmpty(Username) || !string.IsNullOrEmpty(Password)))
        {
            throw new InvalidOperationException("Storage:Elasticsearch:ApiKey and Storage:Elasticsearch:Username or Password are both set; keep one way of authenticating.");
        }

        if (string.IsNullOrEmpty(Username) != string.IsNullOrEmpty(Password))
        {
            throw new InvalidOperationException("Storage:Elasticsearch:Username and Storage:Elasticsearch:Password must be set together.");
        }

        CheckIndexPrefix();
    }

    private void CheckIndexPrefix()
    {
        if (string.IsNullOrEmpty(IndexPrefix))
        {
            throw new InvalidOperationException("Storage:Elasticsearch:IndexPrefix is empty; set the start of the index names, for example lambdastats-.");
        }

        if (IndexPrefix.Any(char.IsUpper) || IndexPrefix.IndexOfAny(ForbiddenIndexCharacters) >= 0)
        {
            throw new InvalidOperationException($"Storage:Elasticsearch:IndexPrefix '{IndexPrefix}' is not valid in an index name: use lower case, without spaces nor any of \\ / * ? \" < > | , # :.");
        }

        if (IndexPrefix[0] is '-' or '_' or '+' or '.')
        {
            throw new InvalidOperationException($"Storage:Elasticsearch:IndexPrefix '{IndexPrefix}' starts with '{IndexPrefix[0]}', which Elasticsearch rejects or keeps for hidden and system indices.");
        }

        if (System.Text.Encoding.UTF8.GetByteCount(IndexPrefix) > MaxIndexPrefixBytes)
        {
            throw new InvalidOperationException($"Storage:Elasticsearch:IndexPrefix is longer than {MaxIndexPrefixBytes} bytes; index names are limited to 255.");
        }
    }
}
