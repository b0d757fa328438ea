using System.Globalization;
using System.Text.Json;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.Events.Ingestion;

namespace LambdaStats.Tests.Ingestion;

[TestFixture]
public sealed class EventParserTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 5, 12, 0, 0, TimeSpan.Zero);

    private readonly EventParser parser = new(new IngestionOptions());

    [Test]
    public void Parse_RepeatedProperty_LastValueWins()
    {
        var outcome = Parse("""{"id":"a","type":"MediaOpened","occurredAt":"2026-12-05T10:00:00Z","hubId":"first","mediaId":"m","hubId":"last"}""");

        Assert.That(outcome.Event?.HubId, Is.EqualTo("last"));
    }

    [Test]
    public void Parse_EscapedPropertyNames_AreRecognised()
    {
        var outcome = Parse("""{"\u0069d":"a","type":"MediaOpened","occurredAt":"2026-12-05T10:00:00Z","hub\u0049d":"h","mediaId":"m"}""");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(outcome.Error, Is.Null);
            Assert.That(outcome.Event?.Id, Is.EqualTo("a"));
            Assert.That(outcome.Event?.HubId, Is.EqualTo("h"));
        }
    }

    [Test]
    public void Parse_UnknownAndMiscasedNames_AreIgnored()
    {
        var outcome = Parse("""{"id":"a","type":"MediaOpened","occurredAt":"2026-12-05T10:00:00Z","hubId":"h","mediaId":"m","MediaId":"other","extra":1}""");

        Assert.That(outcome.Event?.MediaId, Is.EqualTo("m"));
    }

    [Test]
    public void Parse_EmptyVisitorId_MeansNoVisitor()
    {
        var outcome = Parse("""{"id":"o-1","type":"MediaOpened","occurredAt":"2026-12-05T10:00:00Z","hubId":"h","mediaId":"m","visitorId":""}""");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(outcome.Error, Is.Null);
            Assert.That(outcome.Event?.VisitorId, Is.Null);
        }
    }

    [Test]
    public void Parse_FullPageView_KeepsValues()
    {
        var outcome = Parse("""
            {"id":"p-1","type":"PageViewed","occurredAt":"2026-12-05T10:00:00.5+01:00","hubId":"h","mediaId":"m",
             "visitorId":"v","sessionId":"s","page":3,"durationSeconds":12.5,"properties":{"a":[1,2]}}
            """);
        var e = outcome.Event!;

        using (Assert.EnterMultipleScope())
        {
            Assert.That(e.Type, Is.EqualTo(EventType.PageViewed));
            Assert.That(e.OccurredAt, Is.EqualTo(new DateTimeOffset(2026, 12, 5, 9, 0, 0, 500, TimeSpan.Zero)));
            Assert.That(e.OccurredAt.Offset, Is.EqualTo(TimeSpan.Zero));
            Assert.That(e.VisitorId, Is.EqualTo("v"));
            Assert.That(e.SessionId, Is.EqualTo("s"));
            Assert.That(e.Page, Is.EqualTo(3));
            Assert.That(e.DurationSeconds, Is.EqualTo(12.5));
            Assert.That(e.Properties?.GetRawText(), Is.EqualTo("""{"a":[1,2]}"""));
        }
    }

    [TestCase("""{"id":"a"}""", "type: required")]
    [TestCase("""{"id":"a","type":"Opened"}""", "type: unknown event type 'Opened'; known types are HubVisited, MediaOpened, PageViewed, MediaDownloaded, MediaShared, PrintOrdered, ContactRequested, ReadConfirmed, MediaUploaded, Subscribed, Unsubscribed")]
    [TestCase("""{"id":"a","type":"MediaOpened","hubId":"h"}""", "occurredAt: required")]
    [TestCase("""{"id":"a","type":"MediaOpened","occurredAt":"2026-12-05T10:00:00Z","hubId":7}""", "hubId: must be a string, got Number")]
    [TestCase("""{"id":"a","type":"MediaOpened","occurredAt":"2026-12-05T10:00:00Z","hubId":""}""", "hubId: must not be empty")]
    [TestCase("""{"id":"a","type":"MediaOpened","occurredAt":"2026-12-05T10:00:00Z","hubId":"h"}""", "mediaId: required")]
    [TestCase("""{"id":"a","type":"MediaShared","occurredAt":"2026-12-05T10:00:00Z","hubId":"h","mediaId":"m"}""", "network: required")]
    [TestCase("""{"id":"a","type":"PageViewed","occurredAt":"2026-12-05T10:00:00Z","hubId":"h","mediaId":"m","page":0}""", "page: must be an integer of 1 or more, got 0")]
    [TestCase("""{"id":"a","type":"HubVisited","occurredAt":"2026-12-05T10:00:00Z","hubId":"h","durationSeconds":-1}""", "durationSeconds: must be a number from 0 to 1000000000, got -1")]
    [TestCase("""{"id":"a","type":"HubVisited","occurredAt":"2026-12-05T10:00:00Z","hubId":"h","properties":[1]}""", "properties: must be a JSON object, got Array")]
    [TestCase("""{"id":"a","type":"HubVisited","occurredAt":"2026-12-05T10:00:00Z","hubId":"h/x"}""", "hubId: must not contain '/', because the hub is a segment of the query URL, got 'h/x'")]
    [TestCase("""{"id":"a","type":"HubVisited","occurredAt":"2026-12-05T10:00:00Z","hubId":".."}""", "hubId: must not be '.' or '..', because the hub is a segment of the query URL and clients resolve those segments away, got '..'")]
    [TestCase("""{"id":"a","type":"HubVisited","occurredAt":"2026-12-05T10:00:00Z","hubId":"."}""", "hubId: must not be '.' or '..', because the hub is a segment of the query URL and clients resolve those segments away, got '.'")]
    [TestCase("""{"id":"a","type":"ContactRequested","occurredAt":"2026-12-05T10:00:00Z","hubId":"h","contactKind":"fax"}""", "contactKind: must be one of callback, audioCall, videoCall, got 'fax'")]
    [TestCase("""{"id":"a","type":"HubVisited","occurredAt":"2026-12-05T10:00:00","hubId":"h"}""", "occurredAt: must be an ISO-8601 timestamp with an offset (for example 2026-01-10T09:30:00Z), got '2026-12-05T10:00:00'")]
    [TestCase("""{"id":"a","type":"HubVisited","occurredAt":"2026-12-05T13:00:00Z","hubId":"h"}""", "occurredAt: 2026-12-05T13:00:00Z is more than 00:05:00 in the future of the server clock (2026-12-05T12:00:00.0000000+00:00)")]
    [TestCase("""{"id":"a","type":"HubVisited","occurredAt":"0001-01-01T23:59:59Z","hubId":"h"}""", "occurredAt: 0001-01-01T23:59:59Z is before 0001-01-02T00:00:00Z, the earliest instant a query can cover")]
    [TestCase("""{"id":"a","type":"HubVisited","occurredAt":"2026-12-05T10:00:00Z","hubId":"h\ud800"}""", "hubId: must be valid Unicode text (UTF-8 without unpaired surrogates)")]
    public void Parse_InvalidEvent_NamesFieldAndRule(string json, string error)
    {
        var outcome = Parse(json);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(outcome.Event, Is.Null);
            Assert.That(outcome.Id, Is.EqualTo("a"));
            Assert.That(outcome.Error, Is.EqualTo(error));
        }
    }

    [TestCase("""{"type":"HubVisited"}""", "id: required")]
    [TestCase("""{"id":5}""", "id: must be a string, got Number")]
    [TestCase("[]", "an event must be a JSON object, not Array")]
    [TestCase("""{"id":"ls\udc00"}""", "id: must be valid Unicode text (UTF-8 without unpaired surrogates)")]
    public void Parse_NoUsableId_FailsWithoutId(string json, string error)
    {
        var outcome = Parse(json);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(outcome.Id, Is.Null);
            Assert.That(outcome.Error, Is.EqualTo(error));
        }
    }

    [TestCase("2026-01-10T09:30:00Z")]
    [TestCase("2026-01-10T09:30:00z")]
    [TestCase("2026-01-10t09:30:00Z")]
    [TestCase("2026-01-10T09:30:00.5Z")]
    [TestCase("2026-01-10T09:30:00.1234567Z")]
    [TestCase("2026-01-10T09:30:00.12345678Z")]
    [TestCase("2026-01-10T09:30:00.Z")]
    [TestCase("2026-01-10T09:30:00+02:00")]
    [TestCase("2026-01-10T09:30:00-05:30")]
    [TestCase("2026-01-10T09:30Z")]
    [TestCase("2026-1-10T09:30:00Z")]
    [TestCase("2024-02-29T23:59:59Z")]
    [TestCase("2026-02-29T00:00:00Z")]
    [TestCase("2026-04-31T00:00:00Z")]
    [TestCase("2026-13-01T00:00:00Z")]
    [TestCase("2026-00-01T00:00:00Z")]
    [TestCase("2026-01-00T00:00:00Z")]
    [TestCase("2026-01-10T24:00:00Z")]
    [TestCase("2026-01-10T23:60:00Z")]
    [TestCase("2026-01-10T23:59:60Z")]
    [TestCase("0000-01-10T09:30:00Z")]
    [TestCase("0001-01-02T00:00:00Z")]
    [TestCase("2026-01-10 09:30:00Z")]
    [TestCase("2026-01-10T09:30:00ZZ")]
    [TestCase("2026-01-10T09:30:0aZ")]
    [TestCase("２０２６-01-10T09:30:00Z")]
    public void Parse_Timestamp_MatchesGeneralParser(string text) => AssertSameAsGeneralParser(text);

    [TestCase("2026-01-10T09:30:00Z", true)]
    [TestCase("2026-01-10T09:30:00.1234567Z", true)]
    [TestCase("2026-01-10T09:30:00+00:00", false)]
    [TestCase("2026-01-10T09:30:00.12345678Z", false)]
    [TestCase("2026-01-10t09:30:00Z", false)]
    public void UtcTimestamp_CommonForm_TakesFastPath(string text, bool expected)
    {
        Assert.That(UtcTimestamp.TryParse(text, out _), Is.EqualTo(expected));
    }

    [Test]
    public void Parse_RandomTimestamps_MatchGeneralParser()
    {
        var random = new Random(20261205);
        for (var i = 0; i < 2_000; i++)
        {
            var instant = new DateTimeOffset(random.NextInt64(new DateTime(1900, 1, 1).Ticks, new DateTime(2026, 12, 5).Ticks), TimeSpan.Zero);
            var digits = random.Next(0, 8);
            var format = digits == 0 ? "yyyy-MM-dd'T'HH:mm:ss'Z'" : $"yyyy-MM-dd'T'HH:mm:ss.{new string('f', digits)}'Z'";

            AssertSameAsGeneralParser(instant.UtcDateTime.ToString(format, CultureInfo.InvariantCulture));
        }
    }

    /// <summary>
    /// Checks the parser against the rule it implements: an explicit offset after a 'T', then
    /// <see cref="DateTimeOffset.TryParse(string, IFormatProvider, DateTimeStyles, out DateTimeOffset)"/>
    /// with the invariant culture.
    /// </summary>
    private void AssertSameAsGeneralParser(string text)
    {
        var outcome = Parse($$"""{"id":"a","type":"HubVisited","occurredAt":"{{text}}","hubId":"h"}""");

        var timeStart = text.IndexOf('T', StringComparison.OrdinalIgnoreCase);
        var time = timeStart < 0 ? default : text.AsSpan(timeStart + 1);
        var hasOffset = timeStart >= 0 && (time.EndsWith("Z", StringComparison.OrdinalIgnoreCase) || time.IndexOfAny('+', '-') >= 0);
        if (hasOffset && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var expected))
        {
            Assert.That(outcome.Event?.OccurredAt, Is.EqualTo(expected.ToUniversalTime()), text);
            Assert.That(outcome.Event?.OccurredAt.Offset, Is.EqualTo(TimeSpan.Zero), text);
        }
        else
        {
            Assert.That(outcome.Error, Does.StartWith("occurredAt: must be an ISO-8601 timestamp"), text);
        }
    }

    private ParseOutcome Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return parser.Parse(document.RootElement, Now);
    }
}
