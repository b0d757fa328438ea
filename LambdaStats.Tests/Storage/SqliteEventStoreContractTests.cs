using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.Storage.Sqlite;

namespace LambdaStats.Tests.Storage;

[TestFixture]
public sealed class SqliteEventStoreContractTests : EventStoreContractTests
{
    private TemporaryDirectory? directory;

    protected override IEventStore OpenNewStore()
    {
        directory = new TemporaryDirectory();
        return directory.OpenEventStore();
    }

    protected override IEventStore Reopen(IEventStore current)
    {
        ((SqliteEventStore)current).Dispose();
        return directory!.OpenEventStore();
    }

    [TearDown]
    public void DeleteStore()
    {
        (Store as SqliteEventStore)?.Dispose();
        directory?.Dispose();
    }
}
