using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Tests.Support;
using LambdaStats.Web.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace LambdaStats.Tests.Web;

/// <summary>How the service reports a failure to start: one short message and exit code 1.</summary>
[TestFixture]
public sealed class ServiceRunnerTests
{
    private string dataDirectory = null!;

    [SetUp]
    public void CreateDirectory()
    {
        dataDirectory = Path.Combine(Path.GetTempPath(), "lambdastats-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataDirectory);
    }

    [TearDown]
    public void DeleteDirectory()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(dataDirectory, recursive: true);
    }

    [Test]
    public async Task Run_UnreadableSetting_PrintsKeyWithoutStack()
    {
        var (exitCode, output) = await RunAsync(("View:Cache:MaxMegabytes", "abc"));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(exitCode, Is.EqualTo(ServiceRunner.FailureExitCode));
            Assert.That(output, Does.StartWith("LambdaStats could not start: "));
            Assert.That(output, Does.Contain("'abc' at 'View:Cache:MaxMegabytes'"));
            Assert.That(output, Does.Not.Contain(" at System."));
            Assert.That(File.Exists(Path.Combine(dataDirectory, "events.db")), Is.False, "the check runs before any database opens");
        }
    }

    [Test]
    public async Task Run_InvalidSetting_PrintsValidationMessage()
    {
        var (exitCode, output) = await RunAsync(("View:Cache:MaxMegabytes", "-1"));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(exitCode, Is.EqualTo(ServiceRunner.FailureExitCode));
            Assert.That(output.TrimEnd(), Is.EqualTo("LambdaStats could not start: View:Cache:MaxMegabytes must be 0 (off) or more."));
        }
    }

    [TestCase("Batch:ReadHourPerEventTypeAboveEvents", "-1", "Batch:ReadHourPerEventTypeAboveEvents is negative; set 0 to turn the switch off, or a number of events.")]
    [TestCase("Batch:EventsPerHubSlice", "-5", "Batch:EventsPerHubSlice is negative; set 0 to turn slicing off, or a number of events per slice.")]
    [TestCase("Ingestion:MaxFutureSkew", "3000000.00:00:00", "Ingestion:MaxFutureSkew must be 365 days or less.")]
    [TestCase("Batch:EventsPerHubSlice", "", "Batch:EventsPerHubSlice is empty or blank; set a whole number, or remove the setting to use its default.")]
    [TestCase("Speed:PairsInMemory", "", "Speed:PairsInMemory is empty or blank; set a whole number, or remove the setting to use its default.")]
    [TestCase("Speed:PairsInMemory", " \t", "Speed:PairsInMemory is empty or blank; set a whole number, or remove the setting to use its default.")]
    [TestCase("Ingestion:MaxLateness", " ", "Ingestion:MaxLateness is empty or blank; set a duration such as 00:05:00, or remove the setting to use its default.")]
    [TestCase("Ingestion:MaxLateness", "10675199.02:48:05", "Ingestion:MaxLateness must be 36500 days (about 100 years) or less; leave it unset for no limit.")]
    public async Task Run_HugeIngestionLimit_StopsAtStart(string key, string value, string expected)
    {
        var (exitCode, output) = await RunAsync((key, value));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(exitCode, Is.EqualTo(ServiceRunner.FailureExitCode));
            Assert.That(output.TrimEnd(), Is.EqualTo($"LambdaStats could not start: {expected}"));
        }
    }

    [Test]
    public async Task Run_InvalidAggregation_StopsBeforeDatabases()
    {
        var (exitCode, output) = await RunAsync(("Aggregations:0:outputs:0:aggregator", "median"));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(exitCode, Is.EqualTo(ServiceRunner.FailureExitCode));
            Assert.That(output, Does.StartWith("LambdaStats could not start: Invalid aggregation configuration"));
            Assert.That(output, Does.Contain("median"));
            Assert.That(File.Exists(Path.Combine(dataDirectory, "events.db")), Is.False, "the catalogue is read before any database opens");
        }
    }

    [TestCase("Aggregations:0:speedLayer", "yes")]
    [TestCase("Aggregations:0:outputs:2:precision", "high")]
    public async Task Run_WrongTypeInCatalogue_StopsBeforeDatabases(string key, string value)
    {
        var (exitCode, output) = await RunAsync((key, value));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(exitCode, Is.EqualTo(ServiceRunner.FailureExitCode));
            Assert.That(output, Does.StartWith($"LambdaStats could not start: Failed to convert configuration value '{value}' at '{key}'").IgnoreCase);
            Assert.That(File.Exists(Path.Combine(dataDirectory, "events.db")), Is.False, "the catalogue is read before any database opens");
        }
    }

    [TestCase("Batch:HourlyCron", "bad", "Batch:HourlyCron 'bad' is not a valid cron expression: Hangfire takes 5 fields, or 6 with seconds first, not 1. Set a cron expression such as '0 * * * *', evaluated in UTC.")]
    [TestCase("Batch:DailyCron", "60 0 * * *", "Batch:DailyCron '60 0 * * *' is not a valid cron expression: The given cron expression has an invalid format. Minutes: Value must be a number between 0 and 59 (all inclusive). Set a cron expression such as '10 0 * * *', evaluated in UTC.")]
    public async Task Run_InvalidCron_StopsBeforeDatabases(string key, string value, string expected)
    {
        var (exitCode, output) = await RunAsync((key, value));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(exitCode, Is.EqualTo(ServiceRunner.FailureExitCode));
            Assert.That(output.TrimEnd(), Is.EqualTo($"LambdaStats could not start: {expected}"));
            Assert.That(File.Exists(Path.Combine(dataDirectory, "events.db")), Is.False, "the schedule is checked before any database opens");
        }
    }

    [Test]
    public async Task Run_EventStoreBehindViews_StopsWithAdvice()
    {
        using (var first = new LambdaStatsFactory(dataDirectory))
        {
            using var client = first.CreateClient();
            var body = $$"""[{"id":"e1","type":"MediaOpened","occurredAt":"{{DateTimeOffset.UtcNow.AddHours(-2):O}}","hubId":"h1","mediaId":"m1"}]""";
            await client.PostAsync("/api/events", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
            var run = await client.PostAsync("/api/admin/batch/run", null);
            Assert.That(run.StatusCode, Is.EqualTo(System.Net.HttpStatusCode.OK), "batch run before the store is lost");
        }

        // The event store is lost, as when it is emptied or replaced, and the views stay.
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var file in Directory.GetFiles(dataDirectory, "events.db*"))
        {
            File.Delete(file);
        }

        var (exitCode, output) = await RunAsync();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(exitCode, Is.EqualTo(ServiceRunner.FailureExitCode));
            Assert.That(output, Does.StartWith("LambdaStats could not start: The views of "));
            Assert.That(output, Does.Contain("but the event store holds sequences up to 0 only"));
            Assert.That(output, Does.Contain("so it is not the store that the views were built from"));
        }
    }

    [Test]
    public void LocalImport_ViewsLocked_StopsBeforeEventStore()
    {
        using var runningService = new FileStream(Path.Combine(dataDirectory, "views.db.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        var settings = new Dictionary<string, string?>
        {
            ["Storage:DataDirectory"] = dataDirectory,
            ["Storage:Events"] = "MongoDb",

            // No server listens on port 9, so reaching the event store would fail with a timeout instead.
            ["Storage:MongoDb:ConnectionString"] = "mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=2000",
        };

        var exception = Assert.Catch(() => LocalImportServices.Create(settings));

        Assert.That(ServiceRunner.Describe(exception!), Does.Contain("views.db.lock"));
    }

    [Test]
    public async Task Run_LockedDataDirectory_PrintsLockMessage()
    {
        using var otherProcess = new FileStream(Path.Combine(dataDirectory, "events.db.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);

        var (exitCode, output) = await RunAsync();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(exitCode, Is.EqualTo(ServiceRunner.FailureExitCode));
            Assert.That(output, Does.Contain("is in use by another process"));
            Assert.That(output, Does.Not.Contain(" at LambdaStats."));
        }
    }

    [Test]
    public async Task Run_UnwritableScratchDirectory_NamesDirectory()
    {
        // A file where the directory should be: the probe fails even for root.
        var scratch = Path.Combine(dataDirectory, "speed");
        await File.WriteAllTextAsync(scratch, "");

        var (exitCode, output) = await RunAsync();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(exitCode, Is.EqualTo(ServiceRunner.FailureExitCode));
            Assert.That(output, Does.StartWith($"LambdaStats could not start: The speed layer's scratch directory '{scratch}' is not writable: "));
            Assert.That(output, Does.Contain("or set Storage:DataDirectory, the directory it is under, to a writable one."));
            Assert.That(output.TrimEnd().Split(Environment.NewLine), Has.Length.EqualTo(1), "one line, without a stack trace");
        }
    }

    [Test]
    public void TryBuild_UnreadableHostingSetting_ReturnsNull()
    {
        using var error = new StringWriter();

        var app = ServiceRunner.TryBuild(["--Hosting:RunJobServer=yes", $"--Storage:DataDirectory={dataDirectory}"], error);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(app, Is.Null);
            Assert.That(error.ToString(), Does.StartWith("LambdaStats could not start: Failed to convert configuration value 'yes' at 'Hosting:RunJobServer'"));
        }
    }

    [TestCase("Bus:Transport", "Kafka", "Failed to convert configuration value 'Kafka' at 'Bus:Transport'")]
    [TestCase("Bus:Transport", "7", "Bus:Transport must be InMemory or RabbitMq, not '7'.")]
    [TestCase("Bus:RabbitMq:Port", "70000", "Bus:RabbitMq:Port must be between 1 and 65535, not 70000.")]
    [TestCase("Bus:RabbitMq:Host", " ", "Bus:RabbitMq:Host is empty")]
    [TestCase("Bus:RabbitMq:PrefetchCount", "0", "Bus:RabbitMq:PrefetchCount must be between 1 and 65535, not 0.")]
    [TestCase("Bus:RabbitMq:QueuePrefix", "two words", "Bus:RabbitMq:QueuePrefix 'two words' is invalid")]
    public void TryBuild_InvalidBusSetting_NamesSetting(string key, string value, string expected)
    {
        using var error = new StringWriter();
        string[] rabbitMq = key == "Bus:Transport" ? [] : ["--Bus:Transport=RabbitMq"];

        var app = ServiceRunner.TryBuild([.. rabbitMq, $"--{key}={value}", $"--Storage:DataDirectory={dataDirectory}"], error);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(app, Is.Null);
            Assert.That(error.ToString(), Does.StartWith($"LambdaStats could not start: {expected}"));
        }
    }

    [TestCase("Jobs:Storage", "Mongo", "Failed to convert configuration value 'Mongo' at 'Jobs:Storage'")]
    [TestCase("Jobs:Redis:Configuration", " ", "Jobs:Redis:Configuration is empty")]
    [TestCase("Jobs:Redis:Prefix", " ", "Jobs:Redis:Prefix is empty")]
    public void TryBuild_InvalidJobsSetting_NamesSetting(string key, string value, string expected)
    {
        using var error = new StringWriter();
        string[] redis = key == "Jobs:Storage" ? [] : ["--Jobs:Storage=Redis"];

        var app = ServiceRunner.TryBuild([.. redis, $"--{key}={value}", $"--Storage:DataDirectory={dataDirectory}"], error);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(app, Is.Null);
            Assert.That(error.ToString(), Does.StartWith($"LambdaStats could not start: {expected}"));
        }
    }

    [Test]
    public void TryBuild_RedisUnreachable_PrintsOneLine()
    {
        using var error = new StringWriter();

        // Port 9 (discard) has no Redis server on a test machine, so the connection is refused.
        var app = ServiceRunner.TryBuild(["--Jobs:Storage=Redis", "--Jobs:Redis:Configuration=127.0.0.1:9,connectTimeout=2000", $"--Storage:DataDirectory={dataDirectory}"], error);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(app, Is.Null);
            Assert.That(error.ToString(), Does.StartWith("LambdaStats could not start: Jobs:Storage is Redis, but no Redis server responded"));
            Assert.That(error.ToString(), Does.Contain("caused by: It was not possible to connect to the redis server"));
            Assert.That(error.ToString(), Does.Not.Contain(" at StackExchange."));
        }
    }

    [TestCase("Storage:Events", "Cassandra", "Storage:Events must be Sqlite or MongoDb, not 'Cassandra'.")]
    [TestCase("Storage:Events", "1", "Storage:Events must be Sqlite or MongoDb, not '1'.")]
    [TestCase("Storage:MongoDb:ConnectionString", " ", "Storage:MongoDb:ConnectionString is missing")]
    [TestCase("Storage:MongoDb:ConnectionString", "http://127.0.0.1:27017", "Storage:MongoDb:ConnectionString is not a valid MongoDB connection string")]
    [TestCase("Storage:MongoDb:Database", "stats.events", "Storage:MongoDb:Database must be 1 to 63 characters")]
    [TestCase("Storage:MongoDb:Database", " ", "Storage:MongoDb:Database must be 1 to 63 characters")]
    public void TryBuild_InvalidEventStoreSetting_NamesSetting(string key, string value, string expected)
    {
        using var error = new StringWriter();
        var settings = new Dictionary<string, string>
        {
            ["Storage:Events"] = "MongoDb",
            ["Storage:MongoDb:ConnectionString"] = "mongodb://127.0.0.1:9",
            [key] = value,
        };

        var app = ServiceRunner.TryBuild([.. settings.Select(setting => $"--{setting.Key}={setting.Value}"), $"--Storage:DataDirectory={dataDirectory}"], error);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(app, Is.Null);
            Assert.That(error.ToString(), Does.StartWith($"LambdaStats could not start: {expected}"));
            Assert.That(error.ToString().TrimEnd(), Does.Not.Contain(Environment.NewLine), "one line");
        }
    }

    [Test]
    public void TryBuild_InvalidConnectionString_HidesPassword()
    {
        using var error = new StringWriter();

        var app = ServiceRunner.TryBuild(["--Storage:Events=MongoDb", "--Storage:MongoDb:ConnectionString=mongodb://user:s3cret@127.0.0.1:port", $"--Storage:DataDirectory={dataDirectory}"], error);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(app, Is.Null);
            Assert.That(error.ToString(), Does.Contain("Storage:MongoDb:ConnectionString is not a valid"));
            Assert.That(error.ToString(), Does.Not.Contain("s3cret"));
        }
    }

    [TestCase(null)]
    [TestCase("Sqlite")]
    [TestCase("sqlite")]
    public void TryBuild_SqliteOrUnset_KeepsSqliteEvents(string? value)
    {
        using var error = new StringWriter();
        string[] events = value is null ? [] : [$"--Storage:Events={value}"];

        var app = ServiceRunner.TryBuild([.. events, $"--Storage:DataDirectory={dataDirectory}"], error);
        var store = app?.Services.GetService<IEventStore>();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(app, Is.Not.Null, error.ToString());
            Assert.That(store?.GetType().Name, Is.EqualTo("SqliteEventStore"));
        }

        (app as IDisposable)?.Dispose();
    }

    [Test]
    public async Task Run_MongoDbUnreachable_HidesPassword()
    {
        // Port 9 (discard) has no MongoDB server on a test machine, so the connection is refused.
        var (exitCode, output) = await RunAsync(
            ("Storage:Events", "MongoDb"),
            ("Storage:MongoDb:ConnectionString", "mongodb://user:s3cret@127.0.0.1:9/?serverSelectionTimeoutMS=500"));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(exitCode, Is.EqualTo(ServiceRunner.FailureExitCode));
            Assert.That(output, Does.StartWith("LambdaStats could not start: Storage:Events is MongoDb, but no MongoDB server responded at 127.0.0.1:9, the hosts of Storage:MongoDb:ConnectionString"));
            Assert.That(output, Does.Not.Contain("s3cret"));
            Assert.That(output, Does.Not.Contain(" at MongoDB."));
            Assert.That(File.Exists(Path.Combine(dataDirectory, "events.db")), Is.False);
        }
    }

    [Test]
    public void AddLambdaStats_MongoAndElasticsearch_RegistersBoth()
    {
        var builder = CreateBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Storage:Events"] = "MongoDb",
            ["Storage:MongoDb:ConnectionString"] = "mongodb://127.0.0.1:9",
            ["Storage:Views"] = "Elasticsearch",
            ["Storage:Elasticsearch:Url"] = "http://127.0.0.1:9",
        });

        builder.AddLambdaStats();
        var eventStores = builder.Services.Where(descriptor => descriptor.ServiceType == typeof(LambdaStats.Modules.Events.Contracts.IEventStore)).ToList();
        var viewStores = builder.Services.Where(descriptor => descriptor.ServiceType == typeof(LambdaStats.Modules.Storage.Elasticsearch.ElasticsearchViewStore)).ToList();
        var sqliteViewStores = builder.Services.Where(descriptor => descriptor.ImplementationType == typeof(LambdaStats.Modules.Storage.Sqlite.SqliteViewStore)).ToList();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(eventStores.Select(descriptor => descriptor.ImplementationType), Is.EqualTo(new[] { typeof(LambdaStats.Modules.Storage.MongoDb.MongoEventStore) }), "event store");
            Assert.That(viewStores, Has.Count.EqualTo(1), "Elasticsearch view store");
            Assert.That(sqliteViewStores, Is.Empty, "no SQLite view store left");
        }
    }

    [Test]
    public void TryBuild_RabbitMqDefaults_BuildsHost()
    {
        using var error = new StringWriter();

        var app = ServiceRunner.TryBuild(["--Bus:Transport=RabbitMq", $"--Storage:DataDirectory={dataDirectory}"], error);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(app, Is.Not.Null, error.ToString());
            Assert.That(error.ToString(), Is.Empty);
        }

        (app as IDisposable)?.Dispose();
    }

    [Test]
    public void Describe_InnerExceptions_OneLineEach()
    {
        var exception = new InvalidOperationException(
            "Batch:HourlyCron 'x' is not a valid cron expression: bad expression",
            new ArgumentException("bad expression", new FormatException("Wrong number of parts")));

        var lines = ServiceRunner.Describe(exception).Split(Environment.NewLine);

        Assert.That(lines, Is.EqualTo(new[]
        {
            "LambdaStats could not start: Batch:HourlyCron 'x' is not a valid cron expression: bad expression",
            "  caused by: Wrong number of parts",
        }));
    }

    [Test]
    public async Task Run_StopTimedOut_ExitsCleanly()
    {
        var builder = CreateBuilder();
        builder.AddLambdaStats();
        builder.Services.Configure<HostOptions>(options => options.ShutdownTimeout = TimeSpan.FromMilliseconds(200));
        builder.Services.AddHostedService<SlowStoppingService>();
        var app = builder.Build();
        app.MapLambdaStats();
        app.Lifetime.ApplicationStarted.Register(app.Lifetime.StopApplication);

        using var error = new StringWriter();
        var exitCode = await ServiceRunner.RunAsync(app, error).WaitAsync(TimeSpan.FromSeconds(30));
        await app.DisposeAsync();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(exitCode, Is.Zero, "the service ran and stopped on request");
            Assert.That(error.ToString(), Does.StartWith("LambdaStats stopped, but some work did not end within the shutdown timeout (0:00:00.2)"));
            Assert.That(error.ToString(), Does.Not.Contain("could not start"));
        }
    }

    /// <summary>A hosted service that takes longer to stop than the host's shutdown timeout, and is cancelled by it.</summary>
    private sealed class SlowStoppingService : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.Delay(TimeSpan.FromSeconds(3), cancellationToken);
    }

    /// <summary>Returns a builder for a service on a free loopback port, over this test's data directory, without the job server or logs.</summary>
    private WebApplicationBuilder CreateBuilder()
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Storage:DataDirectory"] = dataDirectory,
            ["Hosting:RunJobServer"] = "false",
            ["Logging:LogLevel:Default"] = "None",
        });
        return builder;
    }

    private async Task<(int ExitCode, string Output)> RunAsync(params (string Key, string Value)[] settings)
    {
        var builder = CreateBuilder();
        builder.Configuration.AddInMemoryCollection(settings.Select(setting => KeyValuePair.Create(setting.Key, (string?)setting.Value)));
        builder.AddLambdaStats();
        var app = builder.Build();
        app.MapLambdaStats();

        // A host that starts despite the failure would run until this stops it, and return 0.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var error = new StringWriter();
        var exitCode = await ServiceRunner.RunAsync(app, error, timeout.Token);
        await app.DisposeAsync();
        return (exitCode, error.ToString());
    }
}
