using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using LambdaStats.Modules.Events.Contracts;

namespace LambdaStats.Modules.Events.Import;

/// <summary>Either the event made from an access log line or the reason the line makes none.</summary>
public readonly record struct AccessLogMapping(LambdaEvent? Event, string? SkipReason)
{
    public static AccessLogMapping Skip(string reason) => new(null, reason);
}

/// <summary>
/// Maps parsed access log lines to audience events. Only successful GET requests become events:
/// a document request is <see cref="EventType.MediaOpened"/>, any other file is
/// <see cref="EventType.MediaDownloaded"/>.
/// </summary>
public static class AccessLogMapper
{
    /// <summary>Prefix of every event id made by <see cref="CreateId"/>.</summary>
    public const string IdPrefix = "clf-";

    /// <summary>Hub of requests whose path has no directory, such as <c>/</c> or <c>/index.html</c>.</summary>
    public const string RootHubId = "root";

    /// <summary>Separator between host and user agent in the visitor id.</summary>
    public const string VisitorIdSeparator = " ";

    private const int IdHashBytes = 16;
    private const int MaxStackBufferBytes = 1024;

    private static readonly string[] DocumentExtensions = ["html", "htm", "shtml", "txt", "pdf"];

    /// <summary>Maps one parsed line.</summary>
    /// <param name="entry">The parsed line.</param>
    /// <param name="lineNumber">1-based line number in the file, part of the event id.</param>
    /// <param name="line">The line as read, without its terminator, part of the event id.</param>
    public static AccessLogMapping Map(AccessLogEntry entry, long lineNumber, ReadOnlySpan<char> line)
    {
        if (entry.Method != "GET")
        {
            return AccessLogMapping.Skip(entry.Method == "-" ? "no request line" : $"method {entry.Method}");
        }

        var path = StripQueryAndFragment(entry.Target);
        if (path.Length == 0 || path[0] != '/')
        {
            return AccessLogMapping.Skip("target is not a path starting with /");
        }

        var hubId = GetHubId(path);
        if (hubId is "." or "..")
        {
            return AccessLogMapping.Skip("first path segment is '.' or '..', which no query URL can name as a hub");
        }

        var isSuccess = entry.Status is >= 200 and <= 299;
        var isDocument = IsDocument(path);
        EventType type;
        if (isDocument && (isSuccess || entry.Status == 304))
        {
            type = EventType.MediaOpened;
        }
        else if (!isDocument && isSuccess)
        {
            type = EventType.MediaDownloaded;
        }
        else
        {
            return AccessLogMapping.Skip(StatusReason(entry.Status));
        }

        var parsed = new LambdaEvent
        {
            Id = CreateId(lineNumber, line),
            Type = type,
            OccurredAt = entry.Time.ToUniversalTime(),
            HubId = hubId,
            MediaId = path,
            VisitorId = GetVisitorId(entry),
        };
        return new AccessLogMapping(parsed, null);
    }

    /// <summary>
    /// Creates the event id of a line: <c>clf-</c> followed by the first 16 bytes, in lowercase
    /// hex, of the SHA-256 of the UTF-8 text <c>"{lineNumber}\n{line}"</c>.
    /// </summary>
    /// <remarks>
    /// Importing the same file again yields the same ids, so the store counts the events as
    /// duplicates. Two identical requests on different lines get different ids. The line number
    /// is part of the id, so a file that gained lines at its start imports again as new events.
    /// </remarks>
    public static string CreateId(long lineNumber, ReadOnlySpan<char> line)
    {
        Span<char> prefix = stackalloc char[21];
        lineNumber.TryFormat(prefix, out var prefixLength, provider: CultureInfo.InvariantCulture);
        prefix[prefixLength++] = '\n';

        var byteCount = prefixLength + Encoding.UTF8.GetByteCount(line);
        byte[]? rented = null;
        var buffer = byteCount <= MaxStackBufferBytes
            ? stackalloc byte[MaxStackBufferBytes]
            : rented = ArrayPool<byte>.Shared.Rent(byteCount);
        try
        {
            var written = Encoding.UTF8.GetBytes(prefix[..prefixLength], buffer);
            written += Encoding.UTF8.GetBytes(line, buffer[written..]);
            Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(buffer[..written], hash);
            return string.Concat(IdPrefix, Convert.ToHexStringLower(hash[..IdHashBytes]));
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Returns the target up to its first <c>?</c> or <c>#</c>.</summary>
    public static string StripQueryAndFragment(string target)
    {
        var end = target.AsSpan().IndexOfAny('?', '#');
        return end < 0 ? target : target[..end];
    }

    /// <summary>
    /// Returns the first path segment when a <c>/</c> follows it, otherwise <see cref="RootHubId"/>.
    /// An empty first segment, as in <c>//a/b</c>, also gives <see cref="RootHubId"/>.
    /// </summary>
    public static string GetHubId(string path)
    {
        var segmentEnd = path.AsSpan(1).IndexOf('/');
        return segmentEnd > 0 ? path.Substring(1, segmentEnd) : RootHubId;
    }

    /// <summary>
    /// Checks whether a path names a document: it ends with <c>/</c>, its last segment has no
    /// extension, or the extension is html, htm, shtml, txt or pdf in any letter case. A last
    /// segment that ends with a dot has no extension.
    /// </summary>
    public static bool IsDocument(string path)
    {
        var lastSegment = path.AsSpan(path.LastIndexOf('/') + 1);
        var dot = lastSegment.LastIndexOf('.');
        if (dot < 0)
        {
            return true;
        }

        var extension = lastSegment[(dot + 1)..];
        if (extension.IsEmpty)
        {
            return true;
        }

        foreach (var documentExtension in DocumentExtensions)
        {
            if (extension.Equals(documentExtension, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Returns the host, or for lines with a user agent, the host and the agent joined by one
    /// space. Hosts contain no spaces, so the first space separates the two.
    /// </summary>
    public static string GetVisitorId(AccessLogEntry entry) =>
        entry.UserAgent is { Length: > 0 } agent
            ? string.Concat(entry.Host, VisitorIdSeparator, agent)
            : entry.Host;

    private static string StatusReason(int status) => status switch
    {
        302 => "status 302",
        304 => "status 304",
        404 => "status 404",
        _ => "status " + status.ToString(CultureInfo.InvariantCulture),
    };
}
