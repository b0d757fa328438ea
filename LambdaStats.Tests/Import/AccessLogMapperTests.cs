using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.Events.Import;

namespace LambdaStats.Tests.Import;

public sealed class AccessLogMapperTests
{
    private const string UserAgent = "Mozilla/5.0 (X11; Linux x86_64)";

    [TestCase("/shuttle/missions/a.html", "shuttle")]
    [TestCase("/shuttle/", "shuttle")]
    [TestCase("/", "root")]
    [TestCase("/index.html", "root")]
    [TestCase("/shuttle", "root")]
    [TestCase("//shuttle/a.html", "root")]
    [TestCase("/index.html?next=/shuttle/a.html", "root")]
    [TestCase("/history/apollo/apollo-13/apollo-13.html#crew", "history")]
    public void Map_Path_ReturnsHubId(string target, string expectedHubId)
    {
        var mapping = Map(Line("GET", target, 200));

        Assert.That(mapping.Event?.HubId, Is.EqualTo(expectedHubId), mapping.SkipReason);
    }

    [TestCase("/shuttle/", EventType.MediaOpened)]
    [TestCase("/shuttle/countdown", EventType.MediaOpened)]
    [TestCase("/a/b.html", EventType.MediaOpened)]
    [TestCase("/a/b.HTML", EventType.MediaOpened)]
    [TestCase("/a/b.htm", EventType.MediaOpened)]
    [TestCase("/a/b.Htm", EventType.MediaOpened)]
    [TestCase("/a/b.shtml", EventType.MediaOpened)]
    [TestCase("/a/b.SHTML", EventType.MediaOpened)]
    [TestCase("/a/b.txt", EventType.MediaOpened)]
    [TestCase("/a/b.TxT", EventType.MediaOpened)]
    [TestCase("/a/b.pdf", EventType.MediaOpened)]
    [TestCase("/a/b.PDF", EventType.MediaOpened)]
    [TestCase("/a/b.", EventType.MediaOpened)]
    [TestCase("/a.d/b", EventType.MediaOpened)]
    [TestCase("/a/b.gif", EventType.MediaDownloaded)]
    [TestCase("/a/b.JPG", EventType.MediaDownloaded)]
    [TestCase("/a/b.html.gz", EventType.MediaDownloaded)]
    [TestCase("/a/b.mpg", EventType.MediaDownloaded)]
    public void Map_Status200_ReturnsTypeByDocumentRule(string target, EventType expectedType)
    {
        var mapping = Map(Line("GET", target, 200));

        Assert.That(mapping.Event?.Type, Is.EqualTo(expectedType), mapping.SkipReason);
    }

    [TestCase(201)]
    [TestCase(206)]
    [TestCase(299)]
    public void Map_Other2xxStatus_MakesEvents(int status)
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(Map(Line("GET", "/a.html", status)).Event?.Type, Is.EqualTo(EventType.MediaOpened));
            Assert.That(Map(Line("GET", "/a.gif", status)).Event?.Type, Is.EqualTo(EventType.MediaDownloaded));
        }
    }

    [TestCase("/a/b.html?x=1", "/a/b.html")]
    [TestCase("/a/b.html#part", "/a/b.html")]
    [TestCase("/a/b.html?x=1#part", "/a/b.html")]
    [TestCase("/a/b.html#part?x=1", "/a/b.html")]
    [TestCase("/cgi-bin/imagemap/countdown70?284,288", "/cgi-bin/imagemap/countdown70")]
    [TestCase("/a/b.gif", "/a/b.gif")]
    public void Map_QueryAndFragment_AreStrippedFromMediaId(string target, string expectedMediaId)
    {
        var mapping = Map(Line("GET", target, 200));

        Assert.That(mapping.Event?.MediaId, Is.EqualTo(expectedMediaId), mapping.SkipReason);
    }

    [Test]
    public void Map_QueryOnImagemap_IsDocumentByPath()
    {
        var mapping = Map(Line("GET", "/cgi-bin/imagemap/countdown70?284,288", 200));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(mapping.Event?.Type, Is.EqualTo(EventType.MediaOpened));
            Assert.That(mapping.Event?.HubId, Is.EqualTo("cgi-bin"));
        }
    }

    [Test]
    public void Map_Status304Document_ReturnsMediaOpened()
    {
        var mapping = Map(Line("GET", "/shuttle/missions/missions.html", 304));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(mapping.SkipReason, Is.Null);
            Assert.That(mapping.Event?.Type, Is.EqualTo(EventType.MediaOpened));
        }
    }

    [TestCase("GET", "/images/ksclogo-medium.gif", 304, "status 304")]
    [TestCase("GET", "/shuttle/missions/sts-71/", 404, "status 404")]
    [TestCase("GET", "/images/missing.gif", 404, "status 404")]
    [TestCase("GET", "/shuttle", 302, "status 302")]
    [TestCase("GET", "/a.html", 500, "status 500")]
    [TestCase("GET", "/a.html", 100, "status 100")]
    [TestCase("POST", "/cgi-bin/geturlstats.pl", 200, "method POST")]
    [TestCase("HEAD", "/shuttle/missions/missions.html", 200, "method HEAD")]
    [TestCase("get", "/a.html", 200, "method get")]
    [TestCase("GET", "http://www.example.com/a.html", 200, "target is not a path starting with /")]
    [TestCase("GET", "*", 200, "target is not a path starting with /")]
    [TestCase("GET", "/../etc/a.html", 200, "first path segment is '.' or '..', which no query URL can name as a hub")]
    [TestCase("GET", "/./a.gif", 200, "first path segment is '.' or '..', which no query URL can name as a hub")]
    public void Map_NotAnEvent_ReturnsSkipReason(string method, string target, int status, string expectedReason)
    {
        var mapping = Map(Line(method, target, status));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(mapping.Event, Is.Null);
            Assert.That(mapping.SkipReason, Is.EqualTo(expectedReason));
        }
    }

    [Test]
    public void Map_DashRequest_ReturnsNoRequestLineReason()
    {
        var mapping = Map("198.51.100.1 - - [01/Aug/1995:02:00:00 +0000] \"-\" 408 -");

        Assert.That(mapping.SkipReason, Is.EqualTo("no request line"));
    }

    [Test]
    public void Map_CommonLine_UsesHostAsVisitorId()
    {
        var mapping = Map(Line("GET", "/a.html", 200));

        Assert.That(mapping.Event?.VisitorId, Is.EqualTo("client.example.com"));
    }

    [Test]
    public void Map_CombinedLine_JoinsHostAndUserAgent()
    {
        var mapping = Map(Line("GET", "/a.html", 200) + $" \"-\" \"{UserAgent}\"");

        Assert.That(mapping.Event?.VisitorId, Is.EqualTo("client.example.com " + UserAgent));
    }

    [Test]
    public void Map_CombinedLineWithoutUserAgent_UsesHost()
    {
        var mapping = Map(Line("GET", "/a.html", 200) + " \"http://r/\" \"-\"");

        Assert.That(mapping.Event?.VisitorId, Is.EqualTo("client.example.com"));
    }

    [Test]
    public void Map_LocalTime_ConvertsToUtc()
    {
        var mapping = Map(Line("GET", "/a.html", 200, "01/Aug/1995:22:30:05 -0400"));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(mapping.Event?.OccurredAt, Is.EqualTo(new DateTimeOffset(1995, 8, 2, 2, 30, 5, TimeSpan.Zero)));
            Assert.That(mapping.Event?.OccurredAt.Offset, Is.EqualTo(TimeSpan.Zero));
        }
    }

    [Test]
    public void Map_Event_HasIdOfLineNumberAndLine()
    {
        var line = Line("GET", "/a.html", 200);

        var mapping = Map(line, lineNumber: 42);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(mapping.Event?.Id, Is.EqualTo(AccessLogMapper.CreateId(42, line)));
            Assert.That(mapping.Event?.SessionId, Is.Null);
        }
    }

    [Test]
    public void CreateId_SameLineAndNumber_ReturnsSameId()
    {
        var first = AccessLogMapper.CreateId(7, Line("GET", "/a.html", 200));
        var second = AccessLogMapper.CreateId(7, Line("GET", "/a.html", 200));

        Assert.That(second, Is.EqualTo(first));
    }

    [Test]
    public void CreateId_OtherLineNumber_ReturnsOtherId()
    {
        var line = Line("GET", "/a.html", 200);

        Assert.That(AccessLogMapper.CreateId(7, line), Is.Not.EqualTo(AccessLogMapper.CreateId(8, line)));
    }

    [Test]
    public void CreateId_OtherContent_ReturnsOtherId()
    {
        Assert.That(
            AccessLogMapper.CreateId(7, Line("GET", "/a.html", 200)),
            Is.Not.EqualTo(AccessLogMapper.CreateId(7, Line("GET", "/b.html", 200))));
    }

    [Test]
    public void CreateId_KnownInput_ReturnsPrefixedSha256Hex()
    {
        // printf '1\nabc' | sha256sum prints c60f2cbf179e5501c75a85ef7bc80a51eec0c1ee...
        var id = AccessLogMapper.CreateId(1, "abc");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(id, Does.StartWith("clf-"));
            Assert.That(id, Has.Length.EqualTo(4 + 32));
            Assert.That(id, Does.Match("^clf-[0-9a-f]{32}$"));
            Assert.That(id, Is.EqualTo("clf-c60f2cbf179e5501c75a85ef7bc80a51"));
        }
    }

    [Test]
    public void CreateId_LineLongerThanStackBuffer_MatchesSha256()
    {
        var line = new string('é', 3_000);

        Assert.That(AccessLogMapper.CreateId(123_456_789, line), Is.EqualTo("clf-" + Sha256Hex("123456789\n" + line)[..32]));
    }

    private static string Sha256Hex(string text) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));

    private static string Line(string method, string target, int status, string time = "01/Aug/1995:02:00:00 -0400") =>
        $"client.example.com - - [{time}] \"{method} {target} HTTP/1.0\" {status} 100";

    private static AccessLogMapping Map(string line, long lineNumber = 1)
    {
        Assert.That(AccessLogParser.TryParse(line, out var entry, out var error), Is.True, error);
        return AccessLogMapper.Map(entry!, lineNumber, line);
    }
}
