using LambdaStats.Modules.Batch;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using NSubstitute;

namespace LambdaStats.Tests.Lambda;

/// <summary>An hourly run that wrote views requests a compacting collection when the GC has more than the configured memory committed, and logs it.</summary>
[TestFixture]
public sealed class HeapCompactionTests
{
    private const long MiB = 1024 * 1024;
    private static readonly DateTimeOffset Now = new(2026, 6, 2, 14, 5, 0, TimeSpan.Zero);

    [Test]
    public async Task HourlyRun_LargeHeap_CompactsAndLogs()
    {
        var compactor = Compactor(committedBytes: 600 * MiB);
        var logger = LoggedLines.NewLogger();

        await RunHourWithEventsAsync(compactor, logger);

        compactor.Received(1).Compact();
        var compactionLogs = LoggedLines.WithEventId(logger, 2007);
        Assert.That(compactionLogs, Has.Count.EqualTo(1));
        Assert.That(compactionLogs[0], Does.Contain("in 120 ms").And.Contain("working set 3000000000 to 1000000000 bytes"));
    }

    [Test]
    public async Task BackgroundCollection_WaitsForItsEnd()
    {
        var compactor = new GcHeapCompactor(TimeProvider.System);
        var background = GC.GetGCMemoryInfo(GCKind.Background).Index;
        var blocking = GC.GetGCMemoryInfo(GCKind.FullBlocking).Index;

        await compactor.CollectInBackgroundAsync(TimeSpan.FromMinutes(1), CancellationToken.None);

        var ended = GC.GetGCMemoryInfo(GCKind.Background).Index > background || GC.GetGCMemoryInfo(GCKind.FullBlocking).Index > blocking;
        Assert.That(ended, Is.True, "a full collection ended before the call completed");
    }

    [Test]
    public async Task HourlyRun_SmallHeap_SkipsCompaction()
    {
        var compactor = Compactor(committedBytes: 500 * MiB);

        await RunHourWithEventsAsync(compactor, Substitute.For<ILogger>());

        compactor.DidNotReceive().Compact();
    }

    [Test]
    public async Task HourlyRun_ThresholdZero_SkipsCompaction()
    {
        var compactor = Compactor(committedBytes: 4096 * MiB);

        await RunHourWithEventsAsync(compactor, Substitute.For<ILogger>(), thresholdMegabytes: 0);

        compactor.DidNotReceive().Compact();
    }

    [Test]
    public async Task HourlyRun_NothingWritten_SkipsCompaction()
    {
        var compactor = Compactor(committedBytes: 4096 * MiB);
        var clock = new FakeTimeProvider(Now);
        await using var harness = new LambdaCoreHarness(new InMemoryEventStore(), new InMemoryViewStore(), clock, services => services.AddSingleton(compactor));
        await harness.StartAsync();

        var summary = await harness.RunHourlyAsync();

        Assert.That(summary.Aggregations.Sum(a => a.BucketsWritten), Is.Zero);
        compactor.DidNotReceive().Compact();
    }

    [Test]
    public void GcHeapCompactor_Compact_ReportsHeapAndDuration()
    {
        var compactor = new GcHeapCompactor(TimeProvider.System);
        var garbage = Enumerable.Range(0, 1_000).Select(i => new byte[1_000]).ToList();
        garbage.Clear();

        var compaction = compactor.Compact();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(compaction.Duration, Is.GreaterThanOrEqualTo(TimeSpan.Zero));
            Assert.That(compaction.HeapBytesAfter, Is.Positive);
            Assert.That(compaction.WorkingSetAfter, Is.Positive);
            Assert.That(compactor.CommittedBytes, Is.Positive);
        }
    }

    private static IHeapCompactor Compactor(long committedBytes)
    {
        var compactor = Substitute.For<IHeapCompactor>();
        compactor.CommittedBytes.Returns(committedBytes);
        compactor.Compact().Returns(new HeapCompaction(TimeSpan.FromMilliseconds(120), 2_000_000_000, 500_000_000, 3_000_000_000, 1_000_000_000));
        return compactor;
    }

    /// <summary>Ingests one event in the hour before <see cref="Now"/> and runs the hourly batch that closes it.</summary>
    private static async Task RunHourWithEventsAsync(IHeapCompactor compactor, ILogger logger, int? thresholdMegabytes = null)
    {
        var configuration = thresholdMegabytes is { } threshold
            ? new ConfigurationBuilder()
                .AddConfiguration(TestConfiguration.Shipped)
                .AddInMemoryCollection(new Dictionary<string, string?> { ["Batch:CompactHeapAboveMegabytes"] = threshold.ToString(System.Globalization.CultureInfo.InvariantCulture) })
                .Build()
            : null;
        var clock = new FakeTimeProvider(Now.AddHours(-1));
        await using var harness = new LambdaCoreHarness(
            new InMemoryEventStore(),
            new InMemoryViewStore(),
            clock,
            CompactorServices.With(compactor, logger),
            configuration);
        await harness.StartAsync();
        await harness.IngestAsync(new LambdaEvent { Id = "o1", Type = EventType.MediaOpened, OccurredAt = Now.AddHours(-1), HubId = "h1", MediaId = "m1" });

        clock.SetUtcNow(Now);
        var summary = await harness.RunHourlyAsync();

        Assert.That(summary.Aggregations.Sum(a => a.BucketsWritten), Is.Positive, "the run wrote the hour of the event");
    }
}
