using Hangfire;
using LambdaStats.Modules;
using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Common;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.Speed;
using LambdaStats.Modules.View.Contracts;
using LambdaStats.Tests.Storage;
using LambdaStats.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using NSubstitute;

namespace LambdaStats.Tests.Speed;

/// <summary>The <c>Speed:PairsInMemory</c> setting, and the scratch files of a process that restarts.</summary>
[TestFixture]
public sealed class SpeedModuleTests
{
    private static readonly DateTimeOffset Now = new(2026, 4, 7, 15, 40, 0, TimeSpan.Zero);
    private static readonly string[] Aggregations = ["mediaConsultations", "pageViews", "hubVisits", "shares"];

    private TemporaryDirectory directory = null!;

    [SetUp]
    public void SetUp() => directory = new TemporaryDirectory();

    [TearDown]
    public void TearDown() => directory.Dispose();

    [TestCase("0")]
    [TestCase("-5")]
    public void HostStart_InvalidPairBudget_Fails(string value)
    {
        using var host = new HostBuilder()
            .ConfigureServices(services =>
            {
                services.AddLogging();
                services.AddSingleton<TimeProvider>(new FakeTimeProvider(Now));
                services.AddLambdaStatsModules(Configuration(value));
                services.AddSingleton<IEventStore>(new InMemoryEventStore());
                services.AddSingleton<IViewStore>(new InMemoryViewStore());
                services.AddSingleton(Substitute.For<IRecurringJobManager>());
                services.AddSingleton(Substitute.For<IBackgroundJobClient>());
            })
            .Build();

        Assert.That(
            () => host.StartAsync(),
            Throws.InstanceOf<OptionsValidationException>().With.Message.Contains("Speed:PairsInMemory must be 1 or more"));
    }

    [Test]
    public async Task ScratchFiles_DeletedAtStartAndStop()
    {
        var scratchDirectory = Path.Combine(directory.Path, "speed");
        Directory.CreateDirectory(scratchDirectory);
        var left = Path.Combine(scratchDirectory, "0123456789abcdef0123456789abcdef.db");
        await File.WriteAllTextAsync(left, "left by a previous process");
        await using var harness = new LambdaCoreHarness(
            new InMemoryEventStore(),
            new InMemoryViewStore(),
            new FakeTimeProvider(Now),
            configuration: Configuration("5"));
        var startup = ActivatorUtilities.CreateInstance<SpeedStartupService>(harness.Services, Substitute.For<IHostApplicationLifetime>());

        await startup.StartAsync(CancellationToken.None);
        await harness.Speed.WhenReadyAsync(CancellationToken.None);
        var written = Path.Combine(scratchDirectory, "fedcba9876543210fedcba9876543210.db");
        await File.WriteAllTextAsync(written, "written while the service ran");
        await startup.StopAsync(CancellationToken.None);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(File.Exists(left), Is.False, "deleted at start");
            Assert.That(File.Exists(written), Is.False, "deleted at stop");
            Assert.That(harness.Speed.IsReady, Is.True);
        }
    }

    [Test]
    public async Task Restart_SpilledPairs_RebuildsSameRows()
    {
        var events = new InMemoryEventStore();
        var views = new InMemoryViewStore();
        var clock = new FakeTimeProvider(Now);
        var scratch = Path.Combine(directory.Path, "speed");

        await using var inMemory = new LambdaCoreHarness(new InMemoryEventStore(), new InMemoryViewStore(), clock, configuration: Configuration("1000000"));
        await using var spilling = new LambdaCoreHarness(events, views, clock, configuration: Configuration("3"));
        await inMemory.StartAsync();
        await spilling.StartAsync();
        var history = History(seed: 7, count: 3_000);
        await inMemory.IngestAsync(history);
        await spilling.IngestAsync(history);
        var expected = Rows(inMemory);
        Assert.That(Directory.GetFiles(scratch), Is.Not.Empty, "the pairs of the spilling process are in scratch files");

        await using var restarted = new LambdaCoreHarness(events, views, clock, configuration: Configuration("3"));
        await restarted.StartAsync();

        Assert.That(Rows(spilling), Is.EqualTo(expected), "before the restart");
        Assert.That(Rows(restarted), Is.EqualTo(expected), "after the restart");
        Assert.That(expected.Keys.Select(key => key.Split(' ')[0]).Distinct(), Is.EquivalentTo(Aggregations));
    }

    private IConfiguration Configuration(string pairsInMemory) => new ConfigurationBuilder()
        .AddConfiguration(TestConfiguration.Shipped)
        .AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Storage:DataDirectory"] = directory.Path,
            ["Speed:PairsInMemory"] = pairsInMemory,
        })
        .Build();

    /// <summary>Events of the last two hours over 3 hubs, 10 media, 50 visitors, 12 pages and 4 networks.</summary>
    private static LambdaEvent[] History(int seed, int count)
    {
        var random = new Random(seed);
        EventType[] types = [EventType.MediaOpened, EventType.PageViewed, EventType.HubVisited, EventType.MediaShared];
        var history = new LambdaEvent[count];
        for (var i = 0; i < count; i++)
        {
            history[i] = new LambdaEvent
            {
                Id = $"e{seed}-{i}",
                Type = types[random.Next(types.Length)],
                OccurredAt = Now.AddSeconds(-random.Next(2 * 3600)),
                HubId = $"h{random.Next(3)}",
                MediaId = $"m{random.Next(10)}",
                VisitorId = $"v{random.Next(50)}",
                Page = random.Next(1, 13),
                DurationSeconds = random.NextDouble() * 300,
                Network = $"n{random.Next(4)}",
            };
        }

        return history;
    }

    /// <summary>Every speed row of the aggregations, by aggregation, hour and key, as its serialized state.</summary>
    private static Dictionary<string, string> Rows(LambdaCoreHarness harness)
    {
        var catalog = harness.Services.GetRequiredService<AggregationCatalog>();
        var rows = new Dictionary<string, string>();
        foreach (var name in Aggregations)
        {
            var definition = catalog.Get(name);
            for (var hub = 0; hub < 3; hub++)
            {
                var snapshot = harness.Speed.TakeSnapshot(definition, new KeyFilter($"h{hub}"), UtcHour.Containing(Now).AddHours(-3), UtcHour.Containing(Now).Next);
                foreach (var row in snapshot.Rows)
                {
                    rows.Add($"{name} {row.Hour.Start:O} {row.Key}", Convert.ToBase64String(row.Row.SerializeState()));
                }
            }
        }

        return rows;
    }
}
