using LambdaStats.Modules.Common;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.Storage.Sqlite;
using Microsoft.Data.Sqlite;
using ScanPath = LambdaStats.Modules.Storage.Sqlite.SqliteHourScan.Path;

namespace LambdaStats.Tests.Storage;

/// <summary>The batch's read of one hour gives, per type, the events and fields that <see cref="SqliteEventStore.ScanAsync"/> gives.</summary>
[TestFixture]
public sealed class SqliteHourScanTests
{
    private static readonly UtcHour Hour = UtcHour.StartingAt(new DateTimeOffset(2025, 3, 10, 8, 0, 0, TimeSpan.Zero));

    private static readonly EventType[] Types = [EventType.HubVisited, EventType.MediaOpened, EventType.PageViewed, EventType.MediaShared, EventType.ContactRequested];

    private TemporaryDirectory directory = null!;
    private SqliteEventStore store = null!;

    [SetUp]
    public void SetUp()
    {
        directory = new TemporaryDirectory();
        store = directory.OpenEventStore();
    }

    [TearDown]
    public void TearDown()
    {
        store.Dispose();
        directory.Dispose();
    }

    private static IEnumerable<TestCaseData> RandomCases()
    {
        foreach (var path in new[] { "chosen", nameof(ScanPath.ByRowid), nameof(ScanPath.ByIndex) })
        {
            for (var seed = 1; seed <= 4; seed++)
            {
                yield return new TestCaseData(path, seed).SetArgDisplayNames(path, $"seed {seed}");
            }
        }
    }

    [TestCaseSource(nameof(RandomCases))]
    public async Task ScanHour_RandomEvents_MatchesScanAsync(string path, int seed)
    {
        var random = new Random(seed);
        var maxSequence = await RandomHourEvents.AppendAsync(store, Hour, Types, random);
        var upTo = random.Next(2) == 0 ? maxSequence : random.Next(1, (int)maxSequence);
        var types = Types.Where(_ => random.Next(3) > 0).DefaultIfEmpty(EventType.PageViewed).ToArray();
        var fields = Enum.GetValues<EventField>().Where(_ => random.Next(2) == 0).Append(EventField.HubId).Distinct().ToArray();

        var scanned = await ScanHourAsync(types, fields, upTo, path == "chosen" ? null : Enum.Parse<ScanPath>(path));
        Assert.That(await store.CountHourAsync(Hour, types, upTo, CancellationToken.None), Is.EqualTo(scanned.Count), "the count of the scan's events");

        foreach (var type in Types)
        {
            var expected = new List<string>();
            if (types.Contains(type))
            {
                await foreach (var e in store.ScanAsync(type, Hour.Start, Hour.End, 0, upTo, CancellationToken.None))
                {
                    expected.Add(Describe(e, fields));
                }
            }

            var actual = scanned.Where(e => e.Type == type).Select(e => Describe(e, Enum.GetValues<EventField>())).ToList();
            Assert.That(actual, Is.EqualTo(expected), $"{type}, up to sequence {upTo} of {maxSequence}, fields {string.Join(",", fields)}");
        }
    }

    [TestCase("chosen")]
    [TestCase(nameof(ScanPath.ByRowid))]
    [TestCase(nameof(ScanPath.ByIndex))]
    public async Task ScanHour_HubFilter_KeepsOnlyThoseHubs(string path)
    {
        var random = new Random(7);
        var maxSequence = await RandomHourEvents.AppendAsync(store, Hour, Types, random);
        var fields = Enum.GetValues<EventField>();
        var all = await ScanHourAsync(Types, fields, maxSequence, null);
        var hubs = all.Select(e => e.HubId).Distinct().Order(StringComparer.Ordinal).ToArray();
        var keptHubs = hubs.Where((_, i) => i % 2 == 0).ToHashSet(StringComparer.Ordinal);

        var filtered = new List<LambdaEvent>();
        var scan = path == "chosen"
            ? store.ScanHourAsync(Hour, Types, fields, maxSequence, keptHubs.Contains, CancellationToken.None)
            : store.ScanHourAsync(Hour, Types, fields, maxSequence, keptHubs.Contains, Enum.Parse<ScanPath>(path), CancellationToken.None);
        await foreach (var e in scan)
        {
            filtered.Add(e);
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(hubs, Has.Length.GreaterThan(1), "the random hour has several hubs");
            Assert.That(
                filtered.Select(e => Describe(e, fields)),
                Is.EquivalentTo(all.Where(e => keptHubs.Contains(e.HubId)).Select(e => Describe(e, fields))));
        }
    }

    [Test]
    public async Task ScanHour_FieldsNotRequested_LeftEmpty()
    {
        await store.AppendAsync([Full("a", Hour.Start.AddMinutes(3))], CancellationToken.None);

        var scanned = (await ScanHourAsync([EventType.PageViewed], [EventField.HubId, EventField.Page], long.MaxValue, null)).Single();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(scanned.Id, Is.Empty);
            Assert.That(scanned.OccurredAt, Is.EqualTo(Hour.Start.AddMinutes(3)));
            Assert.That(scanned.HubId, Is.EqualTo("hub-1"));
            Assert.That(scanned.Page, Is.EqualTo(7));
            Assert.That(scanned.MediaId, Is.Null);
            Assert.That(scanned.VisitorId, Is.Null);
            Assert.That(scanned.SessionId, Is.Null);
            Assert.That(scanned.DurationSeconds, Is.Null);
            Assert.That(scanned.Network, Is.Null);
            Assert.That(scanned.Properties, Is.Null);
        }
    }

    [Test]
    public async Task ScanHour_SequenceWindow_StopsAtUpTo()
    {
        await store.AppendAsync([Full("a", Hour.Start), Full("b", Hour.Start.AddMinutes(1)), Full("c", Hour.Start.AddMinutes(2))], CancellationToken.None);

        var scanned = await ScanHourAsync([EventType.PageViewed], [EventField.Id], 2, null);

        Assert.That(scanned.Select(e => e.Id), Is.EqualTo(new[] { "a", "b" }));
    }

    [TestCase(4_000, 0, 0, true)]
    [TestCase(1_000_000, 64, 64, true)]
    [TestCase(1_000_000, 64, 39, true)]
    [TestCase(1_000_000, 64, 38, false)]
    [TestCase(1_000_000, 64, 0, false)]
    [TestCase(1_000_000, 0, 0, false)]
    public void Choose_SampledShare_PicksCheaperPath(long rangeRows, int samples, int samplesInHour, bool byRowid)
    {
        Assert.That(SqliteHourScan.Choose(rangeRows, samples, samplesInHour), Is.EqualTo(byRowid ? ScanPath.ByRowid : ScanPath.ByIndex));
    }

    [Test]
    public void RowidSql_QueryPlan_SeeksRowidRange()
    {
        var plan = Explain(SqliteHourScan.RowidSql([EventField.HubId, EventField.MediaId]), 3);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(plan, Does.Contain("USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)"));
            Assert.That(plan, Does.Not.Contain("TEMP B-TREE"));
        }
    }

    [Test]
    public void IndexSql_QueryPlan_SeeksIndexWithoutSort()
    {
        var plan = Explain(SqliteHourScan.IndexSql([EventField.HubId]), 3);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(plan, Does.Contain("USING INDEX events_type_hour_seq (type=? AND hour=? AND seq<?)"));
            Assert.That(plan, Does.Not.Contain("TEMP B-TREE"));
        }
    }

    private async Task<List<LambdaEvent>> ScanHourAsync(EventType[] types, EventField[] fields, long upTo, ScanPath? path)
    {
        var events = new List<LambdaEvent>();
        var scan = path is { } forced
            ? store.ScanHourAsync(Hour, types, fields, upTo, forced, CancellationToken.None)
            : store.ScanHourAsync(Hour, types, fields, upTo, CancellationToken.None);
        await foreach (var e in scan)
        {
            events.Add(e);
        }

        return events;
    }

    /// <summary>The type, time and hub, then <paramref name="fields"/> with null for the others and an empty id.</summary>
    private static string Describe(LambdaEvent e, IReadOnlyCollection<EventField> fields) =>
        string.Join(
            "|",
            new[] { e.Type.ToString(), e.OccurredAt.UtcTicks.ToString(System.Globalization.CultureInfo.InvariantCulture), e.HubId }
                .Concat(Enum.GetValues<EventField>().Where(field => field != EventField.HubId)
                    .Select(field => fields.Contains(field) ? EventFields.GetString(e, field) ?? "null" : field == EventField.Id ? string.Empty : "null")));

    private static LambdaEvent Full(string id, DateTimeOffset occurredAt) => new()
    {
        Id = id,
        Type = EventType.PageViewed,
        OccurredAt = occurredAt,
        HubId = "hub-1",
        MediaId = "media-1",
        VisitorId = "visitor-1",
        SessionId = "session-1",
        Page = 7,
        DurationSeconds = 2.5,
        Network = "x",
        ContactKind = "email",
    };

    private string Explain(string sql, int parameterCount)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = store.FilePath, Pooling = false }.ToString());
        connection.Open();
        return QueryPlans.Explain(connection, sql, Enumerable.Range(1, parameterCount).Select(i => "?" + i).ToArray());
    }
}
