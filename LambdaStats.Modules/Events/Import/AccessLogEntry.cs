namespace LambdaStats.Modules.Events.Import;

/// <summary>The two NCSA access log formats that <see cref="AccessLogParser"/> reads.</summary>
public enum AccessLogFormat
{
    /// <summary>NCSA Common Log Format: host, ident, authuser, time, request, status, bytes.</summary>
    Common = 1,

    /// <summary>NCSA Combined Log Format: the Common fields followed by the quoted referer and user agent.</summary>
    Combined,
}

/// <summary>One parsed access log line. Fields written as <c>-</c> in the log are null.</summary>
/// <param name="Format">Common, or Combined when the line carries referer and user agent.</param>
/// <param name="Host">Client host name or IP address.</param>
/// <param name="Ident">RFC 1413 identity of the client.</param>
/// <param name="AuthUser">User name from HTTP authentication.</param>
/// <param name="Time">Time the request was received, with the offset written in the log.</param>
/// <param name="Method">Request method as written, for example <c>GET</c>, or <c>-</c> when the log has no request line.</param>
/// <param name="Target">Request target as written, with query string and fragment. Empty when the request line has none.</param>
/// <param name="Protocol">Protocol token such as <c>HTTP/1.0</c>, or null when the request line omits it.</param>
/// <param name="Status">HTTP status code, 100 to 599.</param>
/// <param name="Bytes">Response body size in bytes.</param>
/// <param name="Referer">Referer header, Combined format only.</param>
/// <param name="UserAgent">User-Agent header, Combined format only.</param>
public sealed record AccessLogEntry(
    AccessLogFormat Format,
    string Host,
    string? Ident,
    string? AuthUser,
    DateTimeOffset Time,
    string Method,
    string Target,
    string? Protocol,
    int Status,
    long? Bytes,
    string? Referer,
    string? UserAgent);
