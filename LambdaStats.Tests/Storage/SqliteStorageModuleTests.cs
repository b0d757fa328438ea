using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.Storage.Sqlite;
using LambdaStats.Modules.View.Contracts;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace LambdaStats.Tests.Storage;

[TestFixture]
public sealed class SqliteStorageModuleTests
{
    private TemporaryDirectory directory = null!;

    [SetUp]
    public void SetUp() => directory = new TemporaryDirectory();

    [TearDown]
    public void TearDown() => directory.Dispose();

    [Test]
    public async Task AddSqliteStorage_HostStart_OpensBothFiles()
    {
        var dataDirectory = Path.Combine(directory.Path, "data");
        await using var provider = BuildProvider(dataDirectory);

        await StartHostedServicesAsync(provider);
        var eventStore = provider.GetRequiredService<IEventStore>();
        var viewStore = provider.GetRequiredService<IViewStore>();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(File.Exists(Path.Combine(dataDirectory, SqliteStorageOptions.EventsFileName)), Is.True);
            Assert.That(File.Exists(Path.Combine(dataDirectory, SqliteStorageOptions.ViewsFileName)), Is.True);
            Assert.That(eventStore, Is.InstanceOf<SqliteEventStore>());
            Assert.That(viewStore, Is.InstanceOf<SqliteViewStore>());
            Assert.That(provider.GetRequiredService<IEventStore>(), Is.SameAs(eventStore));
            Assert.That(provider.GetRequiredService<IViewStore>(), Is.SameAs(viewStore));
        }
    }

    [Test]
    public void OpenEventStore_SecondOwner_Locked()
    {
        var first = directory.OpenEventStore();

        var error = Assert.Throws<InvalidOperationException>(() => directory.OpenEventStore().Dispose());
        first.Dispose();
        using var reopened = directory.OpenEventStore();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(error!.Message, Does.Contain("is in use by another process"));
            Assert.That(error.Message, Does.Contain("events.db.lock"));
            Assert.That(error.Message, Does.Contain("--url"));
        }
    }

    [Test]
    public void OpenEventStore_UnopenableLockFile_NotInUse()
    {
        // A lock file that links to itself cannot be opened, for a reason other than a lock.
        File.CreateSymbolicLink(Path.Combine(directory.Path, "events.db.lock"), "events.db.lock");

        var error = Assert.Throws<InvalidOperationException>(() => directory.OpenEventStore().Dispose());

        using (Assert.EnterMultipleScope())
        {
            Assert.That(error!.Message, Does.StartWith("Failed to create the lock file"));
            Assert.That(error.Message, Does.Contain("Storage:DataDirectory"));
            Assert.That(error.Message, Does.Not.Contain("in use"));
        }
    }

    [Test]
    public async Task AddSqliteStorage_DataDirectoryIsAFile_FailsStartNamingPathAndSetting()
    {
        var filePath = Path.Combine(directory.Path, "occupied");
        await File.WriteAllTextAsync(filePath, "x");
        await using var provider = BuildProvider(filePath);

        Assert.That(
            () => StartHostedServicesAsync(provider),
            Throws.InvalidOperationException
                .With.Message.Contains(filePath)
                .And.Message.Contains("Storage:DataDirectory"));
    }

    private static ServiceProvider BuildProvider(string dataDirectory)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Storage:DataDirectory"] = dataDirectory })
            .Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSqliteStorage(configuration);
        return services.BuildServiceProvider();
    }

    private static async Task StartHostedServicesAsync(IServiceProvider provider)
    {
        foreach (var service in provider.GetServices<IHostedService>())
        {
            await service.StartAsync(CancellationToken.None);
        }
    }
}
