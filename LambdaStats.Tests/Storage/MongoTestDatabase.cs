using LambdaStats.Modules.Storage.MongoDb;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MongoDB.Bson;
using MongoDB.Driver;

namespace LambdaStats.Tests.Storage;

/// <summary>
/// A database of its own on the MongoDB server that <c>LAMBDASTATS_TEST_MONGODB</c> names,
/// dropped (on jongodb, emptied) on dispose. Tests that need it are ignored when the variable is not set.
/// </summary>
internal sealed class MongoTestDatabase : IDisposable
{
    public const string VariableName = "LAMBDASTATS_TEST_MONGODB";

    private const int CommandNotFoundCode = 59;

    private MongoTestDatabase(string connectionString)
    {
        ConnectionString = connectionString;
        Name = "lambdastats-test-" + Guid.NewGuid().ToString("N");
    }

    public string ConnectionString { get; }

    public string Name { get; }

    /// <summary>Returns a new database name on the test server, or ignores the test when no server is configured.</summary>
    public static MongoTestDatabase CreateOrIgnore()
    {
        var connectionString = Environment.GetEnvironmentVariable(VariableName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            Assert.Ignore($"Set {VariableName} to a MongoDB connection string (such as mongodb://127.0.0.1:27017) to run the MongoDB event store tests.");
        }

        return new MongoTestDatabase(connectionString);
    }

    public MongoEventStoreOptions Options() => new() { ConnectionString = ConnectionString, Database = Name };

    public MongoEventStore OpenEventStore(ILogger<MongoEventStore>? logger = null) =>
        new(Microsoft.Extensions.Options.Options.Create(Options()), logger ?? NullLogger<MongoEventStore>.Instance);

    /// <summary>Returns the database through a client of its own, for tests that change documents behind the store.</summary>
    public IMongoDatabase Open(out MongoClient client)
    {
        client = new MongoClient(ConnectionString);
        return client.GetDatabase(Name);
    }

    public void Dispose()
    {
        using var client = new MongoClient(ConnectionString);
        try
        {
            client.DropDatabase(Name);
        }
        catch (MongoCommandException exception) when (exception.Code == CommandNotFoundCode)
        {
            // jongodb 0.1.6 has no dropDatabase, drop nor listCollections command, so the
            // documents are deleted and the empty collections stay on that throwaway server.
            var database = client.GetDatabase(Name);
            database.GetCollection<BsonDocument>(MongoEventStore.EventsCollectionName).DeleteMany(FilterDefinition<BsonDocument>.Empty);
            database.GetCollection<BsonDocument>(MongoEventStore.CountersCollectionName).DeleteMany(FilterDefinition<BsonDocument>.Empty);
        }
    }
}
