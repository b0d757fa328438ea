using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace LambdaStats.Modules.Events.Import;

/// <summary>
/// Parses NCSA Common and Combined Log Format lines, as written by Apache httpd, nginx and the
/// NCSA server:
/// <c>host ident authuser [dd/MMM/yyyy:HH:mm:ss +zzzz] "METHOD target protocol" status bytes</c>,
/// optionally followed by <c>"referer" "user agent"</c>.
/// </summary>
/// <remarks>
/// The parser scans the line once from left to right and never backtracks. It does not throw on
/// bad input: it returns an error that names the field. Inside quoted strings, <c>\"</c> and
/// <c>\\</c> are unescaped and other backslash sequences (such as Apache's <c>\x16</c>) are kept
/// as written. Fields separated by several spaces are accepted. Text after the user agent is
/// ignored, so log formats that append fields to Combined still parse.
/// </remarks>
public static class AccessLogParser
{
    private const int TimestampLength = 26; // dd/MMM/yyyy:HH:mm:ss +zzzz
    private const int MaxQuotedFieldExcerpt = 40;

    private static readonly string[] MonthNames =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

    /// <summary>Parses one line without its line terminator.</summary>
    /// <returns>True with <paramref name="entry"/> set, or false with <paramref name="error"/> set.</returns>
    public static bool TryParse(
        ReadOnlySpan<char> line,
        [NotNullWhen(true)] out AccessLogEntry? entry,
        [NotNullWhen(false)] out string? error)
    {
        entry = null;
        var rest = line.TrimEnd();
        if (rest.IsEmpty)
        {
            error = "empty line";
            return false;
        }

        if (!TryReadToken(ref rest, "host", out var host, out error)
            || !TryReadToken(ref rest, "ident", out var ident, out error)
            || !TryReadToken(ref rest, "authuser", out var authUser, out error)
            || !TryReadTimestamp(ref rest, out var time, out error)
            || !TryReadQuoted(ref rest, "request", out var request, out error)
            || !TryParseRequest(request, out var method, out var target, out var protocol, out error)
            || !TryReadToken(ref rest, "status", out var statusText, out error)
            || !TryParseStatus(statusText, out var status, out error)
            || !TryReadToken(ref rest, "bytes", out var bytesText, out error)
            || !TryParseBytes(bytesText, out var bytes, out error))
        {
            return false;
        }

        var format = AccessLogFormat.Common;
        string? referer = null;
        string? userAgent = null;
        rest = rest.TrimStart(' ');
        if (!rest.IsEmpty)
        {
            if (rest[0] != '"')
            {
                error = $"unexpected text after the byte count: '{Excerpt(rest)}'";
                return false;
            }

            if (!TryReadQuoted(ref rest, "referer", out var refererText, out error)
                || !TryReadQuoted(ref rest, "user agent", out var userAgentText, out error))
            {
                return false;
            }

            format = AccessLogFormat.Combined;
            referer = DashToNull(refererText);
            userAgent = DashToNull(userAgentText);
        }

        entry = new AccessLogEntry(
            format,
            host.ToString(),
            DashToNull(ident),
            DashToNull(authUser),
            time,
            method,
            target,
            protocol,
            status,
            bytes,
            referer,
            userAgent);
        return true;
    }

    /// <summary>Reads the next field up to a space, after skipping leading spaces.</summary>
    private static bool TryReadToken(ref ReadOnlySpan<char> rest, string field, out ReadOnlySpan<char> token, [NotNullWhen(false)] out string? error)
    {
        rest = rest.TrimStart(' ');
        var end = rest.IndexOf(' ');
        token = end < 0 ? rest : rest[..end];
        rest = rest[token.Length..];
        if (token.IsEmpty)
        {
            error = $"{field}: missing";
            return false;
        }

        error = null;
        return true;
    }

    private static bool TryReadTimestamp(ref ReadOnlySpan<char> rest, out DateTimeOffset time, [NotNullWhen(false)] out string? error)
    {
        time = default;
        rest = rest.TrimStart(' ');
        if (rest.IsEmpty || rest[0] != '[')
        {
            error = "time: missing '[' before the timestamp";
            return false;
        }

        var close = rest.IndexOf(']');
        if (close < 0)
        {
            error = "time: missing ']' after the timestamp";
            return false;
        }

        var text = rest[1..close];
        rest = rest[(close + 1)..];
        if (!TryParseTimestamp(text, out time))
        {
            error = $"time: invalid timestamp '{Excerpt(text)}', expected dd/MMM/yyyy:HH:mm:ss +hhmm";
            return false;
        }

        error = null;
        return true;
    }

    /// <summary>
    /// Parses <c>dd/MMM/yyyy:HH:mm:ss +hhmm</c> by position, which is faster and stricter than a
    /// culture-aware format parse. Month names are English, in any letter case.
    /// </summary>
    private static bool TryParseTimestamp(ReadOnlySpan<char> text, out DateTimeOffset time)
    {
        time = default;
        if (text.Length != TimestampLength
            || text[2] != '/' || text[6] != '/' || text[11] != ':' || text[14] != ':' || text[17] != ':'
            || text[20] != ' ' || (text[21] != '+' && text[21] != '-'))
        {
            return false;
        }

        var month = IndexOfMonth(text.Slice(3, 3)) + 1;
        if (month == 0
            || !TryParseDigits(text.Slice(0, 2), out var day)
            || !TryParseDigits(text.Slice(7, 4), out var year)
            || !TryParseDigits(text.Slice(12, 2), out var hour)
            || !TryParseDigits(text.Slice(15, 2), out var minute)
            || !TryParseDigits(text.Slice(18, 2), out var second)
            || !TryParseDigits(text.Slice(22, 2), out var offsetHours)
            || !TryParseDigits(text.Slice(24, 2), out var offsetMinutes))
        {
            return false;
        }

        if (year < 1 || day < 1 || day > DateTime.DaysInMonth(year, month)
            || hour > 23 || minute > 59 || second > 59 || offsetHours > 14 || offsetMinutes > 59)
        {
            return false;
        }

        var offset = new TimeSpan(offsetHours, offsetMinutes, 0);
        if (text[21] == '-')
        {
            offset = -offset;
        }

        if (offset.Duration() > TimeSpan.FromHours(14))
        {
            return false;
        }

        // DateTimeOffset throws when the UTC instant falls outside DateTime's range, which only
        // the first and last day of years 1 and 9999 can reach.
        var local = new DateTime(year, month, day, hour, minute, second, DateTimeKind.Unspecified);
        var utcTicks = local.Ticks - offset.Ticks;
        if (utcTicks < DateTime.MinValue.Ticks || utcTicks > DateTime.MaxValue.Ticks)
        {
            return false;
        }

        time = new DateTimeOffset(local, offset);
        return true;
    }

    private static int IndexOfMonth(ReadOnlySpan<char> name)
    {
        for (var i = 0; i < MonthNames.Length; i++)
        {
            if (name.Equals(MonthNames[i], StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        return -1;
    }

    private static bool TryParseDigits(ReadOnlySpan<char> digits, out int value)
    {
        value = 0;
        foreach (var c in digits)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            value = (value * 10) + (c - '0');
        }

        return true;
    }

    /// <summary>
    /// Reads a double-quoted field after skipping leading spaces. A backslash escapes the next
    /// character, so <c>\"</c> does not end the field. The scan is linear in the field length.
    /// </summary>
    private static bool TryReadQuoted(ref ReadOnlySpan<char> rest, string field, out string value, [NotNullWhen(false)] out string? error)
    {
        value = string.Empty;
        rest = rest.TrimStart(' ');
        if (rest.IsEmpty || rest[0] != '"')
        {
            error = $"{field}: missing opening quote";
            return false;
        }

        var hasEscape = false;
        var close = -1;
        for (var i = 1; i < rest.Length; i++)
        {
            var c = rest[i];
            if (c == '\\' && i + 1 < rest.Length)
            {
                hasEscape = true;
                i++;
            }
            else if (c == '"')
            {
                close = i;
                break;
            }
        }

        if (close < 0)
        {
            error = $"{field}: missing closing quote";
            return false;
        }

        var content = rest[1..close];
        rest = rest[(close + 1)..];
        if (!rest.IsEmpty && rest[0] != ' ')
        {
            error = $"{field}: missing space after the closing quote";
            return false;
        }

        value = hasEscape ? Unescape(content) : content.ToString();
        error = null;
        return true;
    }

    private static string Unescape(ReadOnlySpan<char> content)
    {
        var builder = new StringBuilder(content.Length);
        for (var i = 0; i < content.Length; i++)
        {
            var c = content[i];
            if (c == '\\' && i + 1 < content.Length && content[i + 1] is '"' or '\\')
            {
                i++;
                c = content[i];
            }

            builder.Append(c);
        }

        return builder.ToString();
    }

    /// <summary>
    /// Splits <c>METHOD target protocol</c>. The protocol is the last word when it starts with
    /// <c>HTTP/</c>, and everything between method and protocol is the target, spaces included,
    /// because some clients send unencoded spaces. A request of <c>-</c> (the server received no
    /// request line) gives the method <c>-</c> and an empty target.
    /// </summary>
    private static bool TryParseRequest(string request, out string method, out string target, out string? protocol, [NotNullWhen(false)] out string? error)
    {
        method = string.Empty;
        target = string.Empty;
        protocol = null;
        var text = request.AsSpan().Trim(' ');
        var methodEnd = text.IndexOf(' ');
        var methodSpan = methodEnd < 0 ? text : text[..methodEnd];
        if (methodSpan.IsEmpty)
        {
            error = "request: empty request line";
            return false;
        }

        if (!IsHttpToken(methodSpan))
        {
            error = $"request: method '{Excerpt(methodSpan)}' is not an HTTP token";
            return false;
        }

        method = InternMethod(methodSpan);
        var remainder = methodEnd < 0 ? ReadOnlySpan<char>.Empty : text[(methodEnd + 1)..].Trim(' ');
        var lastSpace = remainder.LastIndexOf(' ');
        var lastWord = lastSpace < 0 ? remainder : remainder[(lastSpace + 1)..];
        if (lastWord.StartsWith("HTTP/", StringComparison.Ordinal))
        {
            protocol = InternProtocol(lastWord);
            remainder = lastSpace < 0 ? ReadOnlySpan<char>.Empty : remainder[..lastSpace].TrimEnd(' ');
        }

        target = remainder.ToString();
        error = null;
        return true;
    }

    /// <summary>Checks the HTTP token syntax that methods follow: ASCII letters, digits and <c>!#$%&amp;'*+-.^_`|~</c>.</summary>
    private static bool IsHttpToken(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (!char.IsAsciiLetterOrDigit(c) && "!#$%&'*+-.^_`|~".IndexOf(c) < 0)
            {
                return false;
            }
        }

        return true;
    }

    private static string InternMethod(ReadOnlySpan<char> method) => method switch
    {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        _ => method.ToString(),
    };

    private static string InternProtocol(ReadOnlySpan<char> protocol) => protocol switch
    {
        "HTTP/1.0" => "HTTP/1.0",
        "HTTP/1.1" => "HTTP/1.1",
        _ => protocol.ToString(),
    };

    private static bool TryParseStatus(ReadOnlySpan<char> text, out int status, [NotNullWhen(false)] out string? error)
    {
        if (text.Length != 3 || !TryParseDigits(text, out status) || status < 100 || status > 599)
        {
            status = 0;
            error = $"status: '{Excerpt(text)}' is not an HTTP status code from 100 to 599";
            return false;
        }

        error = null;
        return true;
    }

    private static bool TryParseBytes(ReadOnlySpan<char> text, out long? bytes, [NotNullWhen(false)] out string? error)
    {
        bytes = null;
        error = null;
        if (text is "-")
        {
            return true;
        }

        if (!IsAsciiDigits(text)
            || !long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
        {
            error = $"bytes: '{Excerpt(text)}' is neither a byte count nor '-'";
            return false;
        }

        bytes = value;
        return true;
    }

    private static bool IsAsciiDigits(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return !text.IsEmpty;
    }

    private static string? DashToNull(ReadOnlySpan<char> text) => text is "-" ? null : text.ToString();

    private static string? DashToNull(string text) => text == "-" ? null : text;

    /// <summary>Returns the start of a field for an error message, so one long bad line cannot flood the output.</summary>
    private static string Excerpt(ReadOnlySpan<char> text) =>
        text.Length <= MaxQuotedFieldExcerpt ? text.ToString() : string.Concat(text[..MaxQuotedFieldExcerpt], "...");
}
