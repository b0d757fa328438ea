using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.Storage.MongoDb;

namespace LambdaStats.Tests.Storage;

/// <summary>The shared cases against a MongoDB server; ignored unless <c>LAMBDASTATS_TEST_MONGODB</c> is set.</summary>
[TestFixture]
public sealed class MongoEventStoreContractTests : EventStoreContractTests
{
    private MongoTestDatabase? database;

    protected override IEventStore OpenNewStore()
    {
        database = MongoTestDatabase.CreateOrIgnore();
        return database.OpenEventStore();
    }

    protected override IEventStore Reopen(IEventStore current)
    {
        ((MongoEventStore)current).Dispose();
        return database!.OpenEventStore();
    }

    [TearDown]
    public void DeleteStore()
    {
        (Store as MongoEventStore)?.Dispose();
        database?.Dispose();
    }
}
