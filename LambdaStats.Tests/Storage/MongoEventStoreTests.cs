using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.Storage.MongoDb;
using Microsoft.Extensions.Logging;
using MongoDB.Bson;
using MongoDB.Driver;

namespace LambdaStats.Tests.Storage;

/// <summary>
/// What the MongoDB adapter does beyond the shared contract: its counter, its recovery from ids
/// stored by another writer, and its log. Ignored unless <c>LAMBDASTATS_TEST_MONGODB</c> is set.
/// </summary>
[TestFixture]
public sealed class MongoEventStoreTests
{
    private static readonly DateTimeOffset HourStart = new(2025, 3, 10, 8, 0, 0, TimeSpan.Zero);

    private MongoTestDatabase? database;

    [SetUp]
    public void CreateDatabase() => database = MongoTestDatabase.CreateOrIgnore();

    [TearDown]
    public void DropDatabase() => database?.Dispose();

    [Test]
    public async Task Open_CounterBehindEvents_RaisesCounter()
    {
        using (var store = database!.OpenEventStore())
        {
            await store.AppendAsync([Event("a"), Event("b"), Event("c")], CancellationToken.None);
        }

        var direct = database.Open(out var client);
        using (client)
        {
            await direct.GetCollection<BsonDocument>(MongoEventStore.CountersCollectionName).DeleteManyAsync(FilterDefinition<BsonDocument>.Empty);
        }

        using var reopened = database.OpenEventStore();
        var result = await reopened.AppendAsync([Event("d")], CancellationToken.None);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Stored.Select(e => e.Id), Is.EqualTo(new[] { "d" }));
            Assert.That(await reopened.GetMaxSequenceAsync(CancellationToken.None), Is.EqualTo(4));
        }
    }

    [Test]
    public async Task Insert_OtherWriterId_IsSkipped()
    {
        // Another process stores "b" between this store's lookup of the ids and its insert.
        var logger = new RecordingLogger<MongoEventStore>();
        using var store = database!.OpenEventStore(logger);
        var direct = database.Open(out var client);
        using (client)
        {
            await direct.GetCollection<BsonDocument>(MongoEventStore.EventsCollectionName)
                .InsertOneAsync(MongoEventDocument.Create(Event("b", hub: "other-writer"), 100));
        }

        List<LambdaEvent> fresh = [Event("a"), Event("b"), Event("c")];
        var documents = fresh.Select((e, index) => MongoEventDocument.Create(e, 1 + index)).ToList();

        var stored = await store.InsertAsync(fresh, documents, CancellationToken.None);
        var scanned = new List<LambdaEvent>();
        await foreach (var e in store.ScanAsync(EventType.MediaOpened, HourStart, HourStart.AddHours(1), 0, long.MaxValue, CancellationToken.None))
        {
            scanned.Add(e);
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(stored.Select(e => e.Id), Is.EqualTo(new[] { "a", "c" }));
            Assert.That(scanned.Select(e => e.Id), Is.EqualTo(new[] { "a", "c", "b" }));
            Assert.That(scanned.Single(e => e.Id == "b").HubId, Is.EqualTo("other-writer"));
            Assert.That(logger.Entries.Select(entry => entry.EventId.Id), Does.Contain(5102));
        }
    }

    [Test]
    public async Task Append_LargeBatch_StoresEveryEvent()
    {
        // 10,000 events, the most one HTTP request carries, with every tenth id repeated.
        using var store = database!.OpenEventStore();
        var batch = Enumerable.Range(0, 10_000).Select(i => Event($"id-{(i % 10 == 9 ? i - 1 : i)}", minute: i % 60)).ToList();

        var result = await store.AppendAsync(batch, CancellationToken.None);
        var again = await store.AppendAsync(batch, CancellationToken.None);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Stored, Has.Count.EqualTo(9_000));
            Assert.That(result.Duplicates, Is.EqualTo(1_000));
            Assert.That(again.Stored, Is.Empty);
            Assert.That(await store.GetMaxSequenceAsync(CancellationToken.None), Is.EqualTo(9_000));
            Assert.That(await store.CountAsync(EventType.MediaOpened, CancellationToken.None), Is.EqualTo(9_000));
        }
    }

    [Test]
    public async Task Open_LogsDatabaseWithoutConnectionString()
    {
        var logger = new RecordingLogger<MongoEventStore>();

        using var store = database!.OpenEventStore(logger);

        var opened = logger.Entries.Single(entry => entry.EventId.Id == 5101);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(opened.Level, Is.EqualTo(LogLevel.Information));
            Assert.That(opened.Message, Does.Contain(database.Name));
            Assert.That(opened.Message, Does.Not.Contain(database.ConnectionString));
        }
    }

    private static LambdaEvent Event(string id, string hub = "hub-1", int minute = 0) => new()
    {
        Id = id,
        Type = EventType.MediaOpened,
        OccurredAt = HourStart.AddMinutes(minute),
        HubId = hub,
        MediaId = "media-1",
    };
}
