using LambdaStats.Modules.Events.Import;

namespace LambdaStats.Tests.Import;

public sealed class AccessLogParserTests
{
    private const string CommonLine =
        "pppa006.compuserve.com - - [01/Aug/1995:02:00:00 -0400] \"GET /images/launch-logo.gif HTTP/1.0\" 200 1713";

    private const string CombinedLine =
        "203.0.113.7 - alice [10/Oct/2000:13:55:36 +0200] \"GET /apache_pb.gif?x=1 HTTP/1.1\" 200 2326 "
        + "\"http://www.example.com/start.html\" \"Mozilla/4.08 [en] (Win98; I ;Nav)\"";

    [Test]
    public void TryParse_CommonLine_ReturnsEveryField()
    {
        var parsed = AccessLogParser.TryParse(CommonLine, out var entry, out var error);

        Assert.That(parsed, Is.True, error);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(entry!.Format, Is.EqualTo(AccessLogFormat.Common));
            Assert.That(entry.Host, Is.EqualTo("pppa006.compuserve.com"));
            Assert.That(entry.Ident, Is.Null);
            Assert.That(entry.AuthUser, Is.Null);
            Assert.That(entry.Time, Is.EqualTo(new DateTimeOffset(1995, 8, 1, 2, 0, 0, TimeSpan.FromHours(-4))));
            Assert.That(entry.Time.Offset, Is.EqualTo(TimeSpan.FromHours(-4)));
            Assert.That(entry.Method, Is.EqualTo("GET"));
            Assert.That(entry.Target, Is.EqualTo("/images/launch-logo.gif"));
            Assert.That(entry.Protocol, Is.EqualTo("HTTP/1.0"));
            Assert.That(entry.Status, Is.EqualTo(200));
            Assert.That(entry.Bytes, Is.EqualTo(1713));
            Assert.That(entry.Referer, Is.Null);
            Assert.That(entry.UserAgent, Is.Null);
        }
    }

    [Test]
    public void TryParse_CombinedLine_ReturnsRefererAndUserAgent()
    {
        var parsed = AccessLogParser.TryParse(CombinedLine, out var entry, out var error);

        Assert.That(parsed, Is.True, error);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(entry!.Format, Is.EqualTo(AccessLogFormat.Combined));
            Assert.That(entry.Host, Is.EqualTo("203.0.113.7"));
            Assert.That(entry.AuthUser, Is.EqualTo("alice"));
            Assert.That(entry.Time, Is.EqualTo(new DateTimeOffset(2000, 10, 10, 13, 55, 36, TimeSpan.FromHours(2))));
            Assert.That(entry.Target, Is.EqualTo("/apache_pb.gif?x=1"));
            Assert.That(entry.Protocol, Is.EqualTo("HTTP/1.1"));
            Assert.That(entry.Referer, Is.EqualTo("http://www.example.com/start.html"));
            Assert.That(entry.UserAgent, Is.EqualTo("Mozilla/4.08 [en] (Win98; I ;Nav)"));
        }
    }

    [Test]
    public void TryParse_CombinedWithDashes_ReturnsNullRefererAndUserAgent()
    {
        var parsed = AccessLogParser.TryParse(CommonLine + " \"-\" \"-\"", out var entry, out var error);

        Assert.That(parsed, Is.True, error);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(entry!.Format, Is.EqualTo(AccessLogFormat.Combined));
            Assert.That(entry.Referer, Is.Null);
            Assert.That(entry.UserAgent, Is.Null);
        }
    }

    [Test]
    public void TryParse_EscapedQuotes_UnescapesRequestAndUserAgent()
    {
        const string line = "h - - [01/Aug/1995:02:00:00 -0400] \"GET /say\\\"hi\\\"\\\\x.html HTTP/1.0\" 200 5 "
            + "\"-\" \"Agent \\\"quoted\\\" \\x16\"";

        var parsed = AccessLogParser.TryParse(line, out var entry, out var error);

        Assert.That(parsed, Is.True, error);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(entry!.Target, Is.EqualTo("/say\"hi\"\\x.html"));
            Assert.That(entry.Protocol, Is.EqualTo("HTTP/1.0"));
            Assert.That(entry.UserAgent, Is.EqualTo("Agent \"quoted\" \\x16"));
        }
    }

    [Test]
    public void TryParse_RequestWithSpaces_KeepsSpacesInTarget()
    {
        const string line = "h - - [01/Aug/1995:02:00:00 -0400] \"GET /shuttle/my file.html HTTP/1.0\" 404 -";

        var parsed = AccessLogParser.TryParse(line, out var entry, out var error);

        Assert.That(parsed, Is.True, error);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(entry!.Method, Is.EqualTo("GET"));
            Assert.That(entry.Target, Is.EqualTo("/shuttle/my file.html"));
            Assert.That(entry.Protocol, Is.EqualTo("HTTP/1.0"));
        }
    }

    [Test]
    public void TryParse_RequestWithoutProtocol_ReturnsNullProtocol()
    {
        const string line = "h - - [01/Aug/1995:02:00:00 -0400] \"GET /history/apollo/\" 200 1732";

        var parsed = AccessLogParser.TryParse(line, out var entry, out var error);

        Assert.That(parsed, Is.True, error);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(entry!.Target, Is.EqualTo("/history/apollo/"));
            Assert.That(entry.Protocol, Is.Null);
        }
    }

    [Test]
    public void TryParse_SpacesWithoutProtocol_KeepsWholeTarget()
    {
        const string line = "h - - [01/Aug/1995:02:00:00 -0400] \"GET /a b/c d.gif\" 200 10";

        var parsed = AccessLogParser.TryParse(line, out var entry, out var error);

        Assert.That(parsed, Is.True, error);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(entry!.Target, Is.EqualTo("/a b/c d.gif"));
            Assert.That(entry.Protocol, Is.Null);
        }
    }

    [Test]
    public void TryParse_DashBytes_ReturnsNullBytes()
    {
        const string line = "h - - [01/Aug/1995:02:00:00 -0400] \"GET / HTTP/1.0\" 304 -";

        var parsed = AccessLogParser.TryParse(line, out var entry, out var error);

        Assert.That(parsed, Is.True, error);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(entry!.Status, Is.EqualTo(304));
            Assert.That(entry.Bytes, Is.Null);
        }
    }

    [Test]
    public void TryParse_DashRequest_ReturnsDashMethodAndEmptyTarget()
    {
        const string line = "198.51.100.1 - - [01/Aug/1995:02:00:00 +0000] \"-\" 408 -";

        var parsed = AccessLogParser.TryParse(line, out var entry, out var error);

        Assert.That(parsed, Is.True, error);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(entry!.Method, Is.EqualTo("-"));
            Assert.That(entry.Target, Is.Empty);
            Assert.That(entry.Protocol, Is.Null);
        }
    }

    [Test]
    public void TryParse_TrailingCarriageReturn_IsIgnored()
    {
        var parsed = AccessLogParser.TryParse(CommonLine + "\r", out var entry, out var error);

        Assert.That(parsed, Is.True, error);
        Assert.That(entry!.Bytes, Is.EqualTo(1713));
    }

    [Test]
    public void TryParse_FieldsAfterUserAgent_AreIgnored()
    {
        var parsed = AccessLogParser.TryParse(CombinedLine + " 1234 \"extra\"", out var entry, out var error);

        Assert.That(parsed, Is.True, error);
        Assert.That(entry!.UserAgent, Is.EqualTo("Mozilla/4.08 [en] (Win98; I ;Nav)"));
    }

    [TestCase("", "empty line")]
    [TestCase("   ", "empty line")]
    [TestCase("h - -", "time: missing '['")]
    [TestCase("h - - 01/Aug/1995:02:00:00 -0400 \"GET / HTTP/1.0\" 200 1", "time: missing '['")]
    [TestCase("h - - [01/Aug/1995:02:00:00 -0400 \"GET / HTTP/1.0\" 200 1", "time: missing ']'")]
    [TestCase("h - - [01/Abc/1995:02:00:00 -0400] \"GET / HTTP/1.0\" 200 1", "time: invalid timestamp '01/Abc/1995:02:00:00 -0400'")]
    [TestCase("h - - [31/Jun/1995:02:00:00 -0400] \"GET / HTTP/1.0\" 200 1", "time: invalid timestamp")]
    [TestCase("h - - [01/Aug/1995:24:00:00 -0400] \"GET / HTTP/1.0\" 200 1", "time: invalid timestamp")]
    [TestCase("h - - [01/Aug/1995:02:00:00 -1500] \"GET / HTTP/1.0\" 200 1", "time: invalid timestamp")]
    [TestCase("h - - [01/Aug/1995:02:00:00] \"GET / HTTP/1.0\" 200 1", "time: invalid timestamp")]
    [TestCase("h - - [01/Aug/1995:02:00:00 -0400] GET / HTTP/1.0 200 1", "request: missing opening quote")]
    [TestCase("h - - [01/Aug/1995:02:00:00 -0400] \"GET / HTTP/1.0 200 1", "request: missing closing quote")]
    [TestCase("h - - [01/Aug/1995:02:00:00 -0400] \"GET /a\"b HTTP/1.0\" 200 1", "request: missing space after the closing quote")]
    [TestCase("h - - [01/Aug/1995:02:00:00 -0400] \"\" 200 1", "request: empty request line")]
    [TestCase("h - - [01/Aug/1995:02:00:00 -0400] \"G(T / HTTP/1.0\" 200 1", "request: method 'G(T' is not an HTTP token")]
    [TestCase("h - - [01/Aug/1995:02:00:00 -0400] \"GET / HTTP/1.0\"", "status: missing")]
    [TestCase("h - - [01/Aug/1995:02:00:00 -0400] \"GET / HTTP/1.0\" OK 1", "status: 'OK' is not an HTTP status code")]
    [TestCase("h - - [01/Aug/1995:02:00:00 -0400] \"GET / HTTP/1.0\" 20 1", "status: '20' is not an HTTP status code")]
    [TestCase("h - - [01/Aug/1995:02:00:00 -0400] \"GET / HTTP/1.0\" 700 1", "status: '700' is not an HTTP status code")]
    [TestCase("h - - [01/Aug/1995:02:00:00 -0400] \"GET / HTTP/1.0\" 200", "bytes: missing")]
    [TestCase("h - - [01/Aug/1995:02:00:00 -0400] \"GET / HTTP/1.0\" 200 12x", "bytes: '12x' is neither a byte count nor '-'")]
    [TestCase("h - - [01/Aug/1995:02:00:00 -0400] \"GET / HTTP/1.0\" 200 -5", "bytes: '-5' is neither a byte count nor '-'")]
    [TestCase("h - - [01/Aug/1995:02:00:00 -0400] \"GET / HTTP/1.0\" 200 1 trailing", "unexpected text after the byte count: 'trailing'")]
    [TestCase("h - - [01/Aug/1995:02:00:00 -0400] \"GET / HTTP/1.0\" 200 1 \"http://r/\"", "user agent: missing opening quote")]
    [TestCase("h - - [01/Aug/1995:02:00:00 -0400] \"GET / HTTP/1.0\" 200 1 \"http://r/\" \"agent", "user agent: missing closing quote")]
    public void TryParse_BadLine_ReturnsErrorNamingField(string line, string expectedError)
    {
        var parsed = AccessLogParser.TryParse(line, out var entry, out var error);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(parsed, Is.False);
            Assert.That(entry, Is.Null);
            Assert.That(error, Does.StartWith(expectedError));
        }
    }

    [Test]
    public void TryParse_LongUnterminatedQuote_ShortensErrorExcerpt()
    {
        var line = "h - - [01/Aug/1995:02:00:00 -0400] \"GET / HTTP/1.0\" 200 1 " + new string('x', 5_000);

        var parsed = AccessLogParser.TryParse(line, out _, out var error);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(parsed, Is.False);
            Assert.That(error, Has.Length.LessThan(100));
        }
    }
}
