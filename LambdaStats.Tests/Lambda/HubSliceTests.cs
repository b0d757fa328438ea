using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Batch;
using LambdaStats.Modules.Batch.Contracts;
using LambdaStats.Modules.Common;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.View.Contracts;
using LambdaStats.Tests.Storage;
using LambdaStats.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using NSubstitute;

namespace LambdaStats.Tests.Lambda;

/// <summary>
/// With <c>Batch:EventsPerHubSlice</c>, the batch computes and writes a large new hour in slices
/// of hubs, and queries return the same results as with one computation of the hour.
/// </summary>
[TestFixture]
public sealed class HubSliceTests
{
    private static readonly DateTimeOffset Start = new(2026, 8, 11, 6, 0, 0, TimeSpan.Zero);
    private static readonly EventType[] Types = MixedHourEvents.Types;
    private static readonly string[] Hubs = Enumerable.Range(1, 12).Select(i => $"h{i}").ToArray();

    [Test]
    public void HubSlice_EveryHub_InExactlyOneSlice()
    {
        var hubs = Enumerable.Range(0, 500).Select(i => $"hub-{i}").ToArray();
        const int Count = 7;

        var slicesPerHub = hubs.Select(hub => Enumerable.Range(0, Count).Count(s => new HubSlice(s, Count).Contains(hub))).ToArray();
        var parts = hubs.Where(new HubSlice(3, Count).Contains).Select(hub => new HubSlice(3, Count).PartOf(hub, 2)).Distinct().ToArray();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(slicesPerHub, Is.All.EqualTo(1));
            Assert.That(Enumerable.Range(0, Count).Select(s => hubs.Count(new HubSlice(s, Count).Contains)), Is.All.GreaterThan(0), "no slice is empty");
            Assert.That(parts, Is.EquivalentTo(new[] { 0, 1 }), "the hubs of one slice still spread over both aggregating threads");
            Assert.That(HubSlice.Whole.Contains("any hub"), Is.True);
        }
    }

    [TestCase(1, false)]
    [TestCase(2, false)]
    [TestCase(3, true)]
    [TestCase(4, true)]
    public async Task SlicedRuns_LateEvents_SameResults(int seed, bool sqlite)
    {
        var whole = await RunAsync(seed, eventsPerHubSlice: 0, sqlite);
        var sliced = await RunAsync(seed, eventsPerHubSlice: 20, sqlite);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(whole.SliceWrites, Is.Zero, "no slices when slicing is off");
            Assert.That(sliced.SliceWrites, Is.GreaterThan(Types.Length * 2), "both runs wrote their new hour in slices");
            Assert.That(sliced.Divergences, Is.Zero, "divergent keys with slices");
            Assert.That(whole.Divergences, Is.Zero, "divergent keys without slices");
            Assert.That(sliced.Answers.Keys, Is.EqualTo(whole.Answers.Keys));
            foreach (var (query, answer) in whole.Answers)
            {
                Assert.That(sliced.Answers[query], Is.EqualTo(answer), query);
            }
        }
    }

    [Test]
    public async Task SlicedRun_FailedSliceWrite_RetriesExactly()
    {
        using var directory = new TemporaryDirectory();
        using var events = directory.OpenEventStore();
        using var sqliteViews = directory.OpenViewStore();
        var views = new SliceCountingViewStore(sqliteViews) { FailOnSliceWrite = 3 };
        var clock = new FakeTimeProvider(Start);
        await using var harness = new LambdaCoreHarness(events, views, clock, configuration: TestConfiguration.With(("Batch:EventsPerHubSlice", "20")));
        await StartWithTwoHoursAsync(harness);

        var failed = await harness.RunHourlyAsync();
        var duringFailure = await MixedHourEvents.HourlyAnswersAsync(harness, Hubs, Start, hours: 2);
        views.FailOnSliceWrite = null;
        var retried = await harness.RunHourlyAsync();
        var afterRetry = await MixedHourEvents.HourlyAnswersAsync(harness, Hubs, Start, hours: 2);
        var expected = await CleanAnswersAsync(seed: 5, eventCount: 400);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(failed.Aggregations.Count(a => a.Error is not null), Is.GreaterThan(0), "the failed slice fails its run");
            Assert.That(duringFailure, Is.EqualTo(expected), "the speed layer still answers exactly after the failure");
            AssertExactRetry(retried, afterRetry, expected, harness);
        }
    }

    [Test]
    public async Task SlicedRun_CancelledBetweenSlices_RetriesExactly()
    {
        using var cancellation = new CancellationTokenSource();
        var compactor = Substitute.For<IHeapCompactor>();
        compactor.CollectInBackgroundAsync(Arg.Any<TimeSpan>(), Arg.Any<CancellationToken>()).Returns(_ =>
        {
            // The service stops while the first slice's collection runs.
            cancellation.Cancel();
            return Task.FromResult(true);
        });
        var logger = LoggedLines.NewLogger();
        var clock = new FakeTimeProvider(Start);
        await using var harness = new LambdaCoreHarness(new InMemoryEventStore(), new InMemoryViewStore(), clock, CompactorServices.With(compactor, logger), TestConfiguration.With(("Batch:EventsPerHubSlice", "20")));
        await StartWithTwoHoursAsync(harness);
        var runner = harness.Services.GetRequiredService<BatchRunner>();

        Assert.That(async () => await runner.RunAsync(BatchRunRequest.Hourly, cancellation.Token), Throws.InstanceOf<OperationCanceledException>());
        var duringStop = await MixedHourEvents.HourlyAnswersAsync(harness, Hubs, Start, hours: 2, expectedWatermark: UtcHour.MinValue);
        var retried = await harness.RunHourlyAsync();
        var afterRetry = await MixedHourEvents.HourlyAnswersAsync(harness, Hubs, Start, hours: 2, expectedWatermark: UtcHour.Containing(Start.AddHours(2)));
        var expected = await CleanAnswersAsync(seed: 5, eventCount: 400);
        var cancelledLines = LoggedLines.WithEventId(logger, 2012).Count;

        using (Assert.EnterMultipleScope())
        {
            Assert.That(cancelledLines, Is.EqualTo(1), "the cancelled run logs one line");
            Assert.That(duringStop, Is.EqualTo(expected), "the speed layer still answers exactly after the cancellation");
            AssertExactRetry(retried, afterRetry, expected, harness);
        }
    }

    [Test]
    public async Task ServiceStopping_WaitingRun_NeverStarts()
    {
        using var stopping = new CancellationTokenSource();
        var lifetime = Substitute.For<IHostApplicationLifetime>();
        lifetime.ApplicationStopping.Returns(stopping.Token);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var compactor = Substitute.For<IHeapCompactor>();
        compactor.CollectInBackgroundAsync(Arg.Any<TimeSpan>(), Arg.Any<CancellationToken>()).Returns(async call =>
        {
            // The first run stays in its first slice until the service stops.
            entered.TrySetResult();
            await Task.Delay(Timeout.Infinite, call.ArgAt<CancellationToken>(1));
            return true;
        });
        var logger = LoggedLines.NewLogger();
        var clock = new FakeTimeProvider(Start);
        await using var harness = new LambdaCoreHarness(
            new InMemoryEventStore(),
            new InMemoryViewStore(),
            clock,
            services =>
            {
                CompactorServices.With(compactor, logger)(services);
                services.AddSingleton(lifetime);
            },
            TestConfiguration.With(("Batch:EventsPerHubSlice", "20")));
        await StartWithTwoHoursAsync(harness);
        var runner = harness.Services.GetRequiredService<BatchRunner>();

        var running = runner.RunAsync(BatchRunRequest.Hourly, CancellationToken.None);
        await entered.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var waiting = runner.RunAsync(BatchRunRequest.Hourly, CancellationToken.None);
        await stopping.CancelAsync();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(async () => await running.WaitAsync(TimeSpan.FromSeconds(30)), Throws.InstanceOf<OperationCanceledException>(), "the running run stops with the service");
            Assert.That(async () => await waiting.WaitAsync(TimeSpan.FromSeconds(30)), Throws.InstanceOf<OperationCanceledException>(), "the waiting run is cancelled too");
            Assert.That(LoggedLines.WithEventId(logger, 2001), Has.Count.EqualTo(1), "only the first run started");
        }
    }

    [Test]
    public async Task FailedFirstRun_LogsFirstEventHour()
    {
        var events = new FailingCountStore(new InMemoryEventStore()) { Failing = true };
        var logger = LoggedLines.NewLogger();
        var clock = new FakeTimeProvider(Start);
        await using var harness = new LambdaCoreHarness(events, new InMemoryViewStore(), clock, CompactorServices.With(Substitute.For<IHeapCompactor>(), logger), TestConfiguration.With(("Batch:EventsPerHubSlice", "10")));
        await harness.StartAsync();
        clock.SetUtcNow(Start.AddHours(3));
        await harness.IngestAsync(MixedHourEvents.Random(new Random(9), "late-start", 50, Start.AddHours(1), hours: 1, Hubs));
        clock.SetUtcNow(Start.AddHours(3).AddMinutes(1));

        await harness.RunHourlyAsync();

        var failures = LoggedLines.WithEventId(logger, 2004);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(failures, Has.Count.EqualTo(harness.Services.GetRequiredService<AggregationCatalog>().All.Count), "one line per aggregation");
            Assert.That(failures.Where(line => line.StartsWith("Batch of mediaConsultations ", StringComparison.Ordinal)), Is.All.Contains($"from {Start.AddHours(1):yyyy-MM-dd'T'HH}:00:00+00:00 to {Start.AddHours(3):yyyy-MM-dd'T'HH}:00:00+00:00"), "an aggregation with events: from its first hour with events");
            Assert.That(failures.Where(line => line.StartsWith("Batch of subscriptions ", StringComparison.Ordinal)), Is.All.Contains($"from {Start.AddHours(3):yyyy-MM-dd'T'HH}:00:00+00:00 to {Start.AddHours(3):yyyy-MM-dd'T'HH}:00:00+00:00"), "an aggregation without events: no hour");
            Assert.That(failures, Is.All.Not.Contains("0001-01-01"));
        }
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task SlicedRun_OnlyLargeHours_AreSliced(bool sqlite)
    {
        using var directory = new TemporaryDirectory();
        using var sqliteEvents = sqlite ? directory.OpenEventStore() : null;
        using var sqliteViews = sqlite ? directory.OpenViewStore() : null;
        var views = new SliceCountingViewStore(sqliteViews is null ? new InMemoryViewStore() : sqliteViews);
        var clock = new FakeTimeProvider(Start);
        await using var harness = new LambdaCoreHarness(sqliteEvents is null ? new InMemoryEventStore() : sqliteEvents, views, clock, configuration: TestConfiguration.With(("Batch:EventsPerHubSlice", "100")));
        await harness.StartAsync();
        var random = new Random(8);

        // Hour 0 contains 60 events, under the setting, and hour 1 contains 450, so 5 slices.
        clock.SetUtcNow(Start.AddHours(2));
        await harness.IngestAsync(MixedHourEvents.Random(random, "small", 60, Start, hours: 1, Hubs));
        await harness.IngestAsync(MixedHourEvents.Random(random, "large", 450, Start.AddHours(1), hours: 1, Hubs));
        clock.SetUtcNow(Start.AddHours(2).AddMinutes(1));
        await harness.RunHourlyAsync();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(views.SlicedHours, Is.EquivalentTo(new[] { UtcHour.Containing(Start.AddHours(1)) }));
            Assert.That(views.SliceWrites, Is.EqualTo(5 * Types.Length), "5 slices of each aggregation of the five types");
            Assert.That(harness.Speed.DivergenceCount, Is.Zero);
        }
    }

    [Test]
    public async Task SlicedRun_FailedCount_ReleasesSealedBuffers()
    {
        var events = new FailingCountStore(new InMemoryEventStore());
        var clock = new FakeTimeProvider(Start);
        await using var harness = new LambdaCoreHarness(events, new InMemoryViewStore(), clock, configuration: TestConfiguration.With(("Batch:EventsPerHubSlice", "10")));
        await harness.StartAsync();
        var random = new Random(9);
        clock.SetUtcNow(Start.AddHours(2));
        await harness.IngestAsync(MixedHourEvents.Random(random, "first", 200, Start, hours: 2, Hubs));
        clock.SetUtcNow(Start.AddHours(2).AddMinutes(1));
        await harness.RunHourlyAsync();

        // Late events make the next run rewrite final views, which flags a rewrite in the speed
        // layer until the run completes or fails.
        await harness.IngestAsync(MixedHourEvents.Random(random, "late", 100, Start, hours: 3, Hubs));
        clock.SetUtcNow(Start.AddHours(3).AddMinutes(1));
        events.Failing = true;
        var failed = await harness.RunHourlyAsync();
        var released = harness.Speed.WaitForRewriteAsync("mediaConsultations", CancellationToken.None).IsCompleted;
        events.Failing = false;
        var retried = await harness.RunHourlyAsync();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(failed.Aggregations.Where(a => Types.Contains(harness.Services.GetRequiredService<AggregationCatalog>().Get(a.Aggregation).EventType)).Select(a => a.Error), Is.All.Contains("count failed (test)"));
            Assert.That(released, Is.True, "the failed run released the rewrite flag");
            Assert.That(retried.Aggregations.Where(a => a.Error is not null), Is.Empty);
            Assert.That(harness.Speed.DivergenceCount, Is.Zero);
        }
    }

    [TestCase("0", 0)]
    [TestCase("10", 10)]
    [TestCase("1", 64)]
    public async Task SlicedRun_EachSlice_CollectsInBackground(string eventsPerHubSlice, int expectedCollections)
    {
        var compactor = Substitute.For<IHeapCompactor>();
        var clock = new FakeTimeProvider(Start);
        await using var harness = new LambdaCoreHarness(
            new InMemoryEventStore(),
            new InMemoryViewStore(),
            clock,
            services => services.AddSingleton(compactor),
            TestConfiguration.With(("Batch:EventsPerHubSlice", eventsPerHubSlice)));
        await harness.StartAsync();
        clock.SetUtcNow(Start.AddHours(1));
        await harness.IngestAsync(MixedHourEvents.Random(new Random(6), "one-hour", 100, Start, hours: 1, Hubs));
        clock.SetUtcNow(Start.AddHours(1).AddMinutes(1));

        var summary = await harness.RunHourlyAsync();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(summary.Aggregations.Where(a => a.Error is not null), Is.Empty);
            Assert.That(summary.Aggregations.Where(a => Types.Contains(harness.Services.GetRequiredService<AggregationCatalog>().Get(a.Aggregation).EventType)).Select(a => a.BucketsWritten), Is.All.EqualTo(1), "each aggregation wrote its hour");

            // 100 new events in one hour: one slice per 10 events, and at most 64 slices.
            await compactor.Received(expectedCollections).CollectInBackgroundAsync(Arg.Any<TimeSpan>(), Arg.Any<CancellationToken>());
        }
    }

    [TestCase(true, 0)]
    [TestCase(false, 10)]
    public async Task SliceCollection_TimedOut_LogsWarning(bool collectionEnds, int expectedWarnings)
    {
        var compactor = Substitute.For<IHeapCompactor>();
        compactor.CollectInBackgroundAsync(Arg.Any<TimeSpan>(), Arg.Any<CancellationToken>()).Returns(collectionEnds);
        var logger = LoggedLines.NewLogger();
        var clock = new FakeTimeProvider(Start);
        await using var harness = new LambdaCoreHarness(
            new InMemoryEventStore(),
            new InMemoryViewStore(),
            clock,
            CompactorServices.With(compactor, logger),
            TestConfiguration.With(("Batch:EventsPerHubSlice", "10")));
        await harness.StartAsync();
        clock.SetUtcNow(Start.AddHours(1));
        await harness.IngestAsync(MixedHourEvents.Random(new Random(6), "one-hour", 100, Start, hours: 1, Hubs));
        clock.SetUtcNow(Start.AddHours(1).AddMinutes(1));

        var summary = await harness.RunHourlyAsync();

        var warnings = LoggedLines.WithEventId(logger, 2009);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(summary.Aggregations.Where(a => a.Error is not null), Is.Empty, "a slow collection fails nothing");
            Assert.That(warnings, Has.Count.EqualTo(expectedWarnings), "one warning per slice whose collection did not end");
            Assert.That(warnings.Take(1), Is.All.Contains("slice 1 of 10").And.Contains("within 10 s"));
        }
    }

    /// <summary>
    /// Starts the harness, ingests <paramref name="eventCount"/> random events drawn from
    /// <paramref name="seed"/> over the two hours from <see cref="Start"/>, and moves the clock
    /// just past them. <see cref="CleanAnswersAsync"/> returns the exact query results for the same events.
    /// </summary>
    private static async Task StartWithTwoHoursAsync(LambdaCoreHarness harness, int seed = 5, int eventCount = 400)
    {
        await harness.StartAsync();
        harness.Clock.SetUtcNow(Start.AddHours(2));
        await harness.IngestAsync(MixedHourEvents.Random(new Random(seed), "first", eventCount, Start, hours: 2, Hubs));
        harness.Clock.SetUtcNow(Start.AddHours(2).AddMinutes(1));
    }

    /// <summary>Checks that the run after a failed or cancelled one succeeded and replaced its slices, with nothing counted twice.</summary>
    private static void AssertExactRetry(BatchRunSummary retried, Dictionary<string, string> afterRetry, Dictionary<string, string> expected, LambdaCoreHarness harness)
    {
        Assert.That(retried.Aggregations.Where(a => a.Error is not null), Is.Empty, "the next run succeeds");
        Assert.That(afterRetry, Is.EqualTo(expected), "the next run replaced the earlier run's slices, with nothing counted twice");
        Assert.That(harness.Speed.DivergenceCount, Is.Zero);
    }

    /// <summary>
    /// Ingests random events over four hours, runs the hourly batch, ingests late events into
    /// those hours and events of a fifth hour, and runs it again. Returns every aggregation's
    /// hourly series per hub from the views, by query.
    /// </summary>
    private static async Task<(Dictionary<string, string> Answers, long Divergences, int SliceWrites)> RunAsync(int seed, long eventsPerHubSlice, bool sqlite)
    {
        using var directory = new TemporaryDirectory();
        using var sqliteEvents = sqlite ? directory.OpenEventStore() : null;
        using var sqliteViews = sqlite ? directory.OpenViewStore() : null;
        var views = new SliceCountingViewStore(sqliteViews is null ? new InMemoryViewStore() : sqliteViews);
        var configuration = TestConfiguration.With(("Batch:EventsPerHubSlice", eventsPerHubSlice.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var clock = new FakeTimeProvider(Start);
        await using var harness = new LambdaCoreHarness(sqliteEvents is null ? new InMemoryEventStore() : sqliteEvents, views, clock, configuration: configuration);
        await harness.StartAsync();
        var random = new Random(seed);

        clock.SetUtcNow(Start.AddHours(4));
        await harness.IngestAsync(MixedHourEvents.Random(random, "first", 600, Start, hours: 4, Hubs));
        clock.SetUtcNow(Start.AddHours(4).AddMinutes(1));
        await harness.RunHourlyAsync();

        clock.SetUtcNow(Start.AddHours(5));
        await harness.IngestAsync(MixedHourEvents.Random(random, "late", 300, Start, hours: 5, Hubs));
        clock.SetUtcNow(Start.AddHours(5).AddMinutes(1));
        await harness.RunHourlyAsync();

        return (await MixedHourEvents.HourlyAnswersAsync(harness, Hubs, Start, hours: 5, UtcHour.Containing(Start.AddHours(5))), harness.Speed.DivergenceCount, views.SliceWrites);
    }

    /// <summary>Returns the query results of a harness that ingested the same events and ran the batch once without slices.</summary>
    private static async Task<Dictionary<string, string>> CleanAnswersAsync(int seed, int eventCount)
    {
        var clock = new FakeTimeProvider(Start);
        await using var harness = new LambdaCoreHarness(new InMemoryEventStore(), new InMemoryViewStore(), clock, configuration: TestConfiguration.With(("Batch:EventsPerHubSlice", "0")));
        await StartWithTwoHoursAsync(harness, seed, eventCount);
        await harness.RunHourlyAsync();
        return await MixedHourEvents.HourlyAnswersAsync(harness, Hubs, Start, hours: 2);
    }

    /// <summary>Counts the slices written, and fails the one with the given number (from 1) while <see cref="FailOnSliceWrite"/> is set.</summary>
    private sealed class SliceCountingViewStore(IViewStore inner) : DelegatingViewStore(inner)
    {
        public int SliceWrites { get; private set; }

        public HashSet<UtcHour> SlicedHours { get; } = [];

        public int? FailOnSliceWrite { get; set; }

        public override Task WriteHourPartAsync(AggregationDefinition aggregation, BucketRows<UtcHour> rows, bool replace, CancellationToken cancellationToken)
        {
            SliceWrites++;
            SlicedHours.Add(rows.Bucket);
            if (SliceWrites == FailOnSliceWrite)
            {
                throw new IOException("disk full (test)");
            }

            return base.WriteHourPartAsync(aggregation, rows, replace, cancellationToken);
        }
    }

    /// <summary>Fails <see cref="CountHourAsync"/> while <see cref="Failing"/> is set.</summary>
    private sealed class FailingCountStore(IEventStore inner) : DelegatingEventStore(inner)
    {
        public bool Failing { get; set; }

        public override Task<long> CountHourAsync(UtcHour hour, IReadOnlyCollection<EventType> types, long upToSequence, CancellationToken cancellationToken) =>
            Failing ? throw new IOException("count failed (test)") : base.CountHourAsync(hour, types, upToSequence, cancellationToken);
    }
}
