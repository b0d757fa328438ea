using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Batch;
using LambdaStats.Modules.Common;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.View.Contracts;
using LambdaStats.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace LambdaStats.Tests.Lambda;

/// <summary>With <c>Batch:ReadHourPerEventType</c>, the batch writes the same views as with one read of each hour for all types.</summary>
[TestFixture]
public sealed class ReadHourPerEventTypeTests
{
    private static readonly DateTimeOffset Start = new(2026, 8, 11, 6, 0, 0, TimeSpan.Zero);
    private static readonly string[] Hubs = ["h1", "h2"];

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    public async Task PerTypeRuns_LateEvents_SameAnswers(int seed)
    {
        var oneRead = await RunAsync(seed, readHourPerEventType: false);
        var perType = await RunAsync(seed, readHourPerEventType: true);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(perType.Divergences, Is.Zero, "divergent keys with one read per event type");
            Assert.That(oneRead.Divergences, Is.Zero, "divergent keys with one read of each hour");
            Assert.That(perType.Answers.Keys, Is.EqualTo(oneRead.Answers.Keys));
            foreach (var (query, answer) in oneRead.Answers)
            {
                Assert.That(perType.Answers[query], Is.EqualTo(answer), query);
            }
        }
    }

    [Test]
    public async Task PerTypeRuns_CancelledCommit_ReleasesLaterTypes()
    {
        var configuration = TestConfiguration.WithReadHourPerEventType(true);
        using var cancellation = new CancellationTokenSource();
        var views = new CancellingViewStore(new InMemoryViewStore(), "mediaConsultations", cancellation);
        var clock = new FakeTimeProvider(Start);
        await using var harness = new LambdaCoreHarness(new InMemoryEventStore(), views, clock, configuration: configuration);
        await harness.StartAsync();
        var random = new Random(4);
        clock.SetUtcNow(Start.AddHours(2));
        await harness.IngestAsync(MixedHourEvents.Random(random, "first", 200, Start, hours: 2, Hubs));
        await harness.RunHourlyAsync();

        // Late events make the next run rewrite final views, which flags a rewrite in the speed
        // layer until the run completes or fails.
        await harness.IngestAsync(MixedHourEvents.Random(random, "late", 100, Start, hours: 2, Hubs));
        views.Armed = true;
        var runner = harness.Services.GetRequiredService<BatchRunner>();

        Assert.That(async () => await runner.RunAsync(BatchRunRequest.Hourly, cancellation.Token), Throws.InstanceOf<OperationCanceledException>());
        using (Assert.EnterMultipleScope())
        {
            Assert.That(harness.Speed.WaitForRewriteAsync("mediaConsultations", CancellationToken.None).IsCompleted, Is.True, "mediaConsultations released");
            Assert.That(harness.Speed.WaitForRewriteAsync("pageViews", CancellationToken.None).IsCompleted, Is.True, "pageViews, a later event type, released");
            Assert.That(harness.Speed.WaitForRewriteAsync("hubVisits", CancellationToken.None).IsCompleted, Is.True, "hubVisits, a later event type, released");
        }
    }

    /// <summary>
    /// Ingests random events over four hours, runs the hourly batch, ingests late events into
    /// those hours and events of a fifth hour, and runs it again. Returns every aggregation's
    /// hourly series per hub from the views, by query.
    /// </summary>
    private static async Task<(Dictionary<string, string> Answers, long Divergences)> RunAsync(int seed, bool readHourPerEventType)
    {
        var configuration = TestConfiguration.WithReadHourPerEventType(readHourPerEventType);
        var clock = new FakeTimeProvider(Start);
        await using var harness = new LambdaCoreHarness(new InMemoryEventStore(), new InMemoryViewStore(), clock, configuration: configuration);
        await harness.StartAsync();
        var random = new Random(seed);

        clock.SetUtcNow(Start.AddHours(4));
        await harness.IngestAsync(MixedHourEvents.Random(random, "first", 600, Start, hours: 4, Hubs));
        clock.SetUtcNow(Start.AddHours(4).AddMinutes(1));
        await harness.RunHourlyAsync();

        clock.SetUtcNow(Start.AddHours(5));
        await harness.IngestAsync(MixedHourEvents.Random(random, "late", 200, Start, hours: 5, Hubs));
        clock.SetUtcNow(Start.AddHours(5).AddMinutes(1));
        await harness.RunHourlyAsync();

        var answers = await MixedHourEvents.HourlyAnswersAsync(harness, Hubs, Start, hours: 5, UtcHour.Containing(Start.AddHours(5)));
        return (answers, harness.Speed.DivergenceCount);
    }

    /// <summary>Cancels the run's token and throws when the batch commits one aggregation, once armed.</summary>
    private sealed class CancellingViewStore(IViewStore inner, string aggregationName, CancellationTokenSource cancellation) : DelegatingViewStore(inner)
    {
        public bool Armed { get; set; }

        public override Task CommitAsync(AggregationDefinition aggregation, IReadOnlyList<BucketRows<UtcHour>> hours, IReadOnlyList<BucketRows<UtcDay>> days, BatchFrontier frontier, CancellationToken cancellationToken)
        {
            if (Armed && aggregation.Name == aggregationName)
            {
                cancellation.Cancel();
                throw new OperationCanceledException(cancellation.Token);
            }

            return base.CommitAsync(aggregation, hours, days, frontier, cancellationToken);
        }
    }
}
