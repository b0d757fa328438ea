using System.Runtime.CompilerServices;
using LambdaStats.Modules.Common;
using LambdaStats.Modules.Events.Contracts;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MongoDB.Bson;
using MongoDB.Driver;

namespace LambdaStats.Modules.Storage.MongoDb;

/// <summary>
/// <see cref="IEventStore"/> on a MongoDB database: one document per event in <c>events</c>,
/// whose <c>_id</c> is the event id, and the last sequence handed out in <c>counters</c>.
/// </summary>
/// <remarks>
/// An append reserves a range of sequences by incrementing the counter document by the number of
/// new events, then inserts them in input order. The store writes one batch at a time, and the
/// ingestion gate lets one batch at a time reach it, so sequences are stored in increasing order
/// within one process. NOTE: two processes on the same database would each have their own gate,
/// so an event could become visible after a higher sequence. The batch layer reads every sequence
/// up to the highest stored one, so it would miss that event until the hour is recomputed.
/// An append uses no transaction, so it also works on a standalone server.
/// </remarks>
internal sealed partial class MongoEventStore : IEventStore, IDisposable
{
    internal const string EventsCollectionName = "events";
    internal const string CountersCollectionName = "counters";

    /// <summary><c>_id</c> of the counter document, whose <c>value</c> is the last sequence reserved.</summary>
    internal const string SequenceCounterId = "events.seq";

    private const string CounterValue = "value";

    private static readonly FilterDefinitionBuilder<BsonDocument> Filter = Builders<BsonDocument>.Filter;

    private readonly MongoClient client;
    private readonly IMongoCollection<BsonDocument> events;
    private readonly IMongoCollection<BsonDocument> counters;
    private readonly ILogger<MongoEventStore> logger;
    private readonly SemaphoreSlim writeLock = new(1, 1);

    public MongoEventStore(IOptions<MongoEventStoreOptions> options, ILogger<MongoEventStore> logger)
    {
        this.logger = logger;
        var url = options.Value.Check();
        client = new MongoClient(MongoClientSettings.FromUrl(url));
        try
        {
            var database = client.GetDatabase(options.Value.Database);
            events = database.GetCollection<BsonDocument>(EventsCollectionName);
            counters = database.GetCollection<BsonDocument>(CountersCollectionName);
            var (count, maxSequence) = Open(url);
            MongoStorageLog.Opened(logger, options.Value.Database, Servers(url), count, maxSequence);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    public async Task<AppendResult> AppendAsync(IReadOnlyList<LambdaEvent> events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (events.Count == 0)
        {
            return new AppendResult([], 0);
        }

        await writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var stored = await AppendNewAsync(events, cancellationToken).ConfigureAwait(false);
            return new AppendResult(stored, events.Count - stored.Count);
        }
        finally
        {
            writeLock.Release();
        }
    }

    public async Task<long> GetMaxSequenceAsync(CancellationToken cancellationToken)
    {
        var highest = await events.Find(Filter.Empty)
            .Sort(Builders<BsonDocument>.Sort.Descending(MongoEventDocument.Sequence))
            .Project(Builders<BsonDocument>.Projection.Include(MongoEventDocument.Sequence).Exclude(MongoEventDocument.Id))
            .Limit(1)
            .FirstOrDefaultAsync(cancellationToken)
            .ConfigureAwait(false);
        return highest?[MongoEventDocument.Sequence].AsInt64 ?? 0;
    }

    public async IAsyncEnumerable<LambdaEvent> ScanAsync(
        EventType type,
        DateTimeOffset from,
        DateTimeOffset to,
        long afterSequence,
        long upToSequence,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var fromTicks = from.UtcTicks;
        var toTicks = to.UtcTicks;
        if (toTicks <= fromTicks || upToSequence <= afterSequence)
        {
            yield break;
        }

        // The hour bounds let the server seek the (type, hour, seq) index, whose order also
        // serves the sort, so documents stream without a sort stage. The tick bounds then apply
        // the exact time range.
        var filter = Filter.Eq(MongoEventDocument.Type, type.ToString())
            & Filter.Gte(MongoEventDocument.Hour, fromTicks / TimeSpan.TicksPerHour)
            & Filter.Lte(MongoEventDocument.Hour, (toTicks - 1) / TimeSpan.TicksPerHour)
            & Filter.Gt(MongoEventDocument.Sequence, afterSequence)
            & Filter.Lte(MongoEventDocument.Sequence, upToSequence)
            & Filter.Gte(MongoEventDocument.OccurredAtTicks, fromTicks)
            & Filter.Lt(MongoEventDocument.OccurredAtTicks, toTicks);
        var sort = Builders<BsonDocument>.Sort.Ascending(MongoEventDocument.Hour).Ascending(MongoEventDocument.Sequence);
        await foreach (var e in StreamAsync(filter, sort, null, cancellationToken).ConfigureAwait(false))
        {
            yield return e;
        }
    }

    /// <remarks>
    /// Reads every requested type in one query sorted by sequence, which the server runs by
    /// merging one (type, hour, seq) index range per type, and fetches only the fields the batch reads.
    /// NOTE: jongodb 0.1.6 ignores projections, so the tests have not shown that a server leaves
    /// the other fields out.
    /// </remarks>
    public IAsyncEnumerable<LambdaEvent> ScanHourAsync(
        UtcHour hour,
        IReadOnlyCollection<EventType> types,
        IReadOnlyCollection<EventField> fields,
        long upToSequence,
        CancellationToken cancellationToken)
    {
        var requested = types.Distinct().ToArray();
        if (requested.Length == 0 || upToSequence <= 0)
        {
            return AsyncEnumerable.Empty<LambdaEvent>();
        }

        var projection = Builders<BsonDocument>.Projection
            .Include(MongoEventDocument.Type)
            .Include(MongoEventDocument.OccurredAtTicks)
            .Include(MongoEventDocument.HubId);
        foreach (var (field, name) in MongoEventDocument.OptionalFields)
        {
            if (field != EventField.Id && fields.Contains(field))
            {
                projection = projection.Include(name);
            }
        }

        if (!fields.Contains(EventField.Id))
        {
            projection = projection.Exclude(MongoEventDocument.Id);
        }

        var sort = Builders<BsonDocument>.Sort.Ascending(MongoEventDocument.Sequence);
        return StreamAsync(HourFilter(hour, requested, upToSequence), sort, projection, cancellationToken);
    }

    public async Task<IReadOnlyList<UtcHour>> GetHoursWithEventsAsync(
        EventType type,
        UtcHour from,
        UtcHour to,
        long afterSequence,
        long upToSequence,
        CancellationToken cancellationToken)
    {
        if (to <= from || upToSequence <= afterSequence)
        {
            return [];
        }

        // The match is a range of the (type, hour, seq) index with sequence bounds in each hour,
        // which the server skips through, and the group only keeps the hours.
        var match = Filter.Eq(MongoEventDocument.Type, type.ToString())
            & Filter.Gte(MongoEventDocument.Hour, from.Index)
            & Filter.Lt(MongoEventDocument.Hour, to.Index)
            & Filter.Gt(MongoEventDocument.Sequence, afterSequence)
            & Filter.Lte(MongoEventDocument.Sequence, upToSequence);
        var pipeline = new EmptyPipelineDefinition<BsonDocument>()
            .Match(match)
            .Group(new BsonDocument(MongoEventDocument.Id, "$" + MongoEventDocument.Hour))
            .Sort(new BsonDocument(MongoEventDocument.Id, 1));
        var hours = await events.Aggregate(pipeline, cancellationToken: cancellationToken)
            .ToListAsync(cancellationToken)
            .ConfigureAwait(false);
        return hours.Select(document => new UtcHour(document[MongoEventDocument.Id].ToInt64())).ToList();
    }

    /// <remarks>Counts the entries of the (type, hour, seq) index that start with the type.</remarks>
    public Task<long> CountAsync(EventType type, CancellationToken cancellationToken) =>
        events.CountDocumentsAsync(Filter.Eq(MongoEventDocument.Type, type.ToString()), cancellationToken: cancellationToken);

    /// <remarks>Counts one range of the (type, hour, seq) index per type, without reading the documents.</remarks>
    public Task<long> CountHourAsync(UtcHour hour, IReadOnlyCollection<EventType> types, long upToSequence, CancellationToken cancellationToken)
    {
        var requested = types.Distinct().ToArray();
        if (requested.Length == 0 || upToSequence <= 0)
        {
            return Task.FromResult(0L);
        }

        return events.CountDocumentsAsync(HourFilter(hour, requested, upToSequence), cancellationToken: cancellationToken);
    }

    public void Dispose()
    {
        client.Dispose();
        writeLock.Dispose();
    }

    private static FilterDefinition<BsonDocument> HourFilter(UtcHour hour, EventType[] types, long upToSequence) =>
        Filter.In(MongoEventDocument.Type, types.Select(type => type.ToString()))
        & Filter.Eq(MongoEventDocument.Hour, hour.Index)
        & Filter.Lte(MongoEventDocument.Sequence, upToSequence);

    /// <summary>The hosts of <paramref name="url"/>, without the user name and password that the connection string may contain.</summary>
    private static string Servers(MongoUrl url) => string.Join(",", url.Servers.Select(server => $"{server.Host}:{server.Port}"));

    private async IAsyncEnumerable<LambdaEvent> StreamAsync(
        FilterDefinition<BsonDocument> filter,
        SortDefinition<BsonDocument> sort,
        ProjectionDefinition<BsonDocument>? projection,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // The cursor contains one batch of documents at a time (the server's default, up to 16 MiB),
        // so memory stays flat however many events the range contains.
        var options = new FindOptions<BsonDocument> { Sort = sort };
        if (projection is not null)
        {
            options.Projection = projection;
        }

        using var cursor = await events.FindAsync(filter, options, cancellationToken).ConfigureAwait(false);
        while (await cursor.MoveNextAsync(cancellationToken).ConfigureAwait(false))
        {
            foreach (var document in cursor.Current)
            {
                yield return MongoEventDocument.Read(document);
            }
        }
    }
}
