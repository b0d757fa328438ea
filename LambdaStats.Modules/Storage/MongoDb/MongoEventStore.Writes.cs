using LambdaStats.Modules.Events.Contracts;
using MongoDB.Bson;
using MongoDB.Driver;

namespace LambdaStats.Modules.Storage.MongoDb;

/// <summary>Opening the collections and appending to them.</summary>
internal sealed partial class MongoEventStore
{
    /// <summary>
    /// Creates the indexes, raises the counter to the highest stored sequence, and returns the
    /// number of stored events and that sequence.
    /// </summary>
    private (long Count, long MaxSequence) Open(MongoUrl url)
    {
        try
        {
            // The unique seq index serves the highest sequence and keeps two events from ever
            // sharing one. The (type, hour, seq) index serves the scans, the hours with events and the counts.
            events.Indexes.CreateMany(
            [
                new CreateIndexModel<BsonDocument>(
                    Builders<BsonDocument>.IndexKeys.Ascending(MongoEventDocument.Sequence),
                    new CreateIndexOptions { Name = "seq_unique", Unique = true }),
                new CreateIndexModel<BsonDocument>(
                    Builders<BsonDocument>.IndexKeys
                        .Ascending(MongoEventDocument.Type)
                        .Ascending(MongoEventDocument.Hour)
                        .Ascending(MongoEventDocument.Sequence),
                    new CreateIndexOptions { Name = "type_hour_seq" }),
            ]);
            var maxSequence = GetMaxSequenceAsync(CancellationToken.None).GetAwaiter().GetResult();

            RaiseCounterTo(maxSequence);
            return (events.EstimatedDocumentCount(), maxSequence);
        }
        catch (TimeoutException exception)
        {
            // The driver's message describes the cluster with the stack trace of each failed
            // connection, too long for the one-line start error, so it goes to the debug log and
            // the error keeps the first connection failure's reason.
            MongoStorageLog.OpenFailed(logger, Servers(url), exception);
            var reason = client.Cluster.Description.Servers
                .Select(server => server.HeartbeatException?.GetBaseException().Message)
                .FirstOrDefault(message => message is not null) ?? "no response";
            throw new InvalidOperationException(
                $"Storage:Events is MongoDb, but no MongoDB server responded at {Servers(url)}, the hosts of {MongoEventStoreOptions.ConnectionStringKey}, within {client.Settings.ServerSelectionTimeout.TotalSeconds:0.###} s ({reason}); start it or correct the setting.");
        }
        catch (MongoAuthenticationException exception)
        {
            throw new InvalidOperationException(
                $"Storage:Events is MongoDb, but the MongoDB server at {Servers(url)} rejected the credentials of {MongoEventStoreOptions.ConnectionStringKey}.",
                exception);
        }
    }

    /// <summary>
    /// Creates the counter, or raises it, so that it is at least <paramref name="maxSequence"/>.
    /// A counter behind the stored events (the counters collection was dropped, or the events
    /// were restored without it) would hand out sequences that are already stored.
    /// </summary>
    /// <remarks>
    /// An update with <c>$max</c> and upsert would do it in one command, but jongodb 0.1.6 rejects
    /// <c>$max</c>. The conditional <c>$set</c> changes nothing once another writer has
    /// moved the counter past <paramref name="maxSequence"/>.
    /// </remarks>
    private void RaiseCounterTo(long maxSequence)
    {
        var counter = Filter.Eq(MongoEventDocument.Id, SequenceCounterId);
        var behind = counter & Filter.Lt(CounterValue, maxSequence);
        var raise = Builders<BsonDocument>.Update.Set(CounterValue, maxSequence);
        if (counters.Find(counter).Any())
        {
            counters.UpdateOne(behind, raise);
            return;
        }

        try
        {
            counters.InsertOne(new BsonDocument { { MongoEventDocument.Id, SequenceCounterId }, { CounterValue, maxSequence } });
        }
        catch (Exception exception) when (IsDuplicateKey(exception))
        {
            // Another process created the counter since the lookup.
            counters.UpdateOne(behind, raise);
        }
    }

    /// <summary>Stores the events whose id is not stored yet and returns them in input order.</summary>
    private async Task<List<LambdaEvent>> AppendNewAsync(IReadOnlyList<LambdaEvent> batch, CancellationToken cancellationToken)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var candidates = new List<LambdaEvent>(batch.Count);
        foreach (var e in batch)
        {
            ArgumentNullException.ThrowIfNull(e, nameof(batch));

            // A repeat inside the batch is a duplicate of its first occurrence, which is kept.
            if (seen.Add(e.Id))
            {
                candidates.Add(e);
            }
        }

        var alreadyStored = await FindStoredIdsAsync(candidates, cancellationToken).ConfigureAwait(false);
        var fresh = candidates.Where(e => !alreadyStored.Contains(e.Id)).ToList();
        if (fresh.Count == 0)
        {
            return fresh;
        }

        var lastSequence = await ReserveSequencesAsync(fresh.Count, cancellationToken).ConfigureAwait(false);
        var firstSequence = lastSequence - fresh.Count + 1;
        var documents = fresh.Select((e, index) => MongoEventDocument.Create(e, firstSequence + index)).ToList();
        try
        {
            return await InsertAsync(fresh, documents, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is MongoException or TimeoutException)
        {
            // NOTE: without a transaction, the events inserted before the failure stay stored
            // but are not returned, so the speed layer never receives them: a retry of the batch
            // reports them as duplicates. Queries miss them until the next hourly batch run
            // computes their hour from the store (a restart's speed rebuild also reads them).
            // The unused sequences of the range leave a gap, which no reader relies on.
            MongoStorageLog.AppendFailed(logger, fresh.Count, firstSequence, lastSequence, exception);
            throw;
        }
    }

    private async Task<HashSet<string>> FindStoredIdsAsync(List<LambdaEvent> candidates, CancellationToken cancellationToken)
    {
        var ids = await events.Find(Filter.In(MongoEventDocument.Id, candidates.Select(e => e.Id)))
            .Project(Builders<BsonDocument>.Projection.Include(MongoEventDocument.Id))
            .ToListAsync(cancellationToken)
            .ConfigureAwait(false);
        return ids.Select(document => document[MongoEventDocument.Id].AsString).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>Adds <paramref name="count"/> to the counter in one atomic update and returns the last sequence of the range it reserved.</summary>
    private async Task<long> ReserveSequencesAsync(int count, CancellationToken cancellationToken)
    {
        var counter = await counters.FindOneAndUpdateAsync(
            Filter.Eq(MongoEventDocument.Id, SequenceCounterId),
            Builders<BsonDocument>.Update.Inc(CounterValue, (long)count),
            new FindOneAndUpdateOptions<BsonDocument> { IsUpsert = true, ReturnDocument = ReturnDocument.After },
            cancellationToken).ConfigureAwait(false);
        return counter[CounterValue].ToInt64();
    }

    /// <summary>
    /// Inserts <paramref name="documents"/> in order. When an id turns out to be stored already
    /// (another process stored it after the lookup), inserts them one at a time and returns only
    /// the events that this call stored.
    /// </summary>
    internal async Task<List<LambdaEvent>> InsertAsync(List<LambdaEvent> fresh, List<BsonDocument> documents, CancellationToken cancellationToken)
    {
        try
        {
            // Ordered, so the server stores the documents in sequence order and stops at the
            // first error: a reader never sees a sequence stored before a lower one of the batch.
            await events.InsertManyAsync(documents, new InsertManyOptions { IsOrdered = true }, cancellationToken).ConfigureAwait(false);
            return fresh;
        }
        catch (Exception exception) when (IsDuplicateKey(exception))
        {
            var first = documents[0][MongoEventDocument.Sequence].AsInt64;
            MongoStorageLog.InsertingOneByOne(logger, documents.Count, first, first + documents.Count - 1, exception);
        }

        var stored = new List<LambdaEvent>(fresh.Count);
        for (var i = 0; i < documents.Count; i++)
        {
            if (await InsertOneAsync(documents[i], cancellationToken).ConfigureAwait(false))
            {
                stored.Add(fresh[i]);
            }
        }

        return stored;
    }

    /// <summary>Inserts one document and returns whether it is now stored with its own sequence.</summary>
    private async Task<bool> InsertOneAsync(BsonDocument document, CancellationToken cancellationToken)
    {
        try
        {
            await events.InsertOneAsync(document, cancellationToken: cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception exception) when (IsDuplicateKey(exception))
        {
            var id = document[MongoEventDocument.Id];
            var sequence = document[MongoEventDocument.Sequence].AsInt64;
            var existing = await events.Find(Filter.Eq(MongoEventDocument.Id, id))
                .Project(Builders<BsonDocument>.Projection.Include(MongoEventDocument.Sequence))
                .FirstOrDefaultAsync(cancellationToken)
                .ConfigureAwait(false);
            if (existing is null)
            {
                // The key that collided is the sequence, not the id: the counter is behind the
                // events, which only a write outside this store can cause.
                throw;
            }

            // An ordered insertMany stops at the first error but keeps the documents before it
            // (MongoDB manual, db.collection.insertMany), so this append may have stored this
            // document already, with its own sequence.
            if (existing[MongoEventDocument.Sequence].AsInt64 == sequence)
            {
                return true;
            }

            MongoStorageLog.StoredByAnotherWriter(logger, id.AsString, sequence);
            return false;
        }
    }

    /// <summary>
    /// Whether <paramref name="exception"/> reports only duplicate keys. mongod reports them
    /// per document, in a bulk write exception for an insertMany; jongodb 0.1.6 rejects the whole
    /// command with code 11000.
    /// </summary>
    private static bool IsDuplicateKey(Exception exception) => exception switch
    {
        MongoWriteException write => write.WriteError?.Category == ServerErrorCategory.DuplicateKey,
        MongoBulkWriteException bulk => bulk.WriteConcernError is null
            && bulk.WriteErrors.Count > 0
            && bulk.WriteErrors.All(error => error.Category == ServerErrorCategory.DuplicateKey),
        MongoCommandException command => command.Code == 11000,
        _ => false,
    };
}
