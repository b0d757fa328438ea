using LambdaStats.Modules.Batch;
using LambdaStats.Modules.Batch.Contracts;
using LambdaStats.Modules.Common;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.View.Contracts;
using LambdaStats.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using NSubstitute;

namespace LambdaStats.Tests.Lambda;

[TestFixture]
public sealed class BackfillAndRecomputeTests
{
    private static readonly DateTimeOffset Now = new(2026, 9, 14, 10, 30, 0, TimeSpan.Zero);

    [Test]
    public void BackfillCaps_SparseHours_SkipsEmptyDays()
    {
        var ancient = UtcHour.MinValue.AddHours(5);
        var end = UtcHour.Containing(Now);
        var recentChunk = (end.Index - ancient.Index) / 24 - 3;
        var recent = ancient.AddHours(recentChunk * 24);

        var caps = RecomputeScheduler.BackfillCaps([ancient, recent, recent.AddHours(23)], end);

        Assert.That(caps, Is.EqualTo(new[]
        {
            ancient.AddHours(24),
            recent.AddHours(24),
            end,
        }));
    }

    [Test]
    public void BackfillCaps_LastChunk_EndsAtEnd()
    {
        var end = UtcHour.Containing(Now);
        var first = end.AddHours(-30);

        var caps = RecomputeScheduler.BackfillCaps([first, end.AddHours(-2), end], end);

        Assert.That(caps, Is.EqualTo(new[] { first.AddHours(24), end }));
    }

    [Test]
    public void RecomputeChunks_CenturiesWithOneDay_OneChunk()
    {
        var from = UtcHour.MinValue.AddHours(24);
        var to = UtcHour.Containing(Now);
        var busy = to.AddHours(-40);

        var chunks = RecomputeScheduler.RecomputeChunks(from, to, [busy, busy.AddHours(1), to, from.AddHours(-1)]);

        var start = from.AddHours((busy.Index - from.Index) / 24 * 24);
        Assert.That(chunks, Is.EqualTo(new[] { (start, start.AddHours(24)) }));
    }

    [Test]
    public void RecomputeChunks_LastPart_EndsAtTo()
    {
        var from = UtcHour.Containing(Now).AddHours(-50);
        var to = UtcHour.Containing(Now);

        var chunks = RecomputeScheduler.RecomputeChunks(from, to, [from, from.AddHours(23), from.AddHours(49)]);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(chunks, Is.EqualTo(new[] { (from, from.AddHours(24)), (from.AddHours(48), to) }));
            Assert.That(RecomputeScheduler.RecomputeChunks(from, to, []), Is.Empty);
        }
    }

    [TestCase(0, false)]
    [TestCase(2, true)]
    public async Task Restart_BehindClosedHour_SchedulesCatchUp(int hoursDown, bool expectCatchUp)
    {
        var clock = new FakeTimeProvider(Now.AddHours(-3));
        var events = new InMemoryEventStore();
        var views = new InMemoryViewStore();
        await using (var before = new LambdaCoreHarness(events, views, clock))
        {
            await before.StartAsync();
            await before.IngestAsync(new LambdaEvent { Id = "o1", Type = EventType.MediaOpened, OccurredAt = Now.AddHours(-3), HubId = "h1", MediaId = "m1" });
            clock.SetUtcNow(Now.AddMinutes(-30));
            await before.IngestAsync(new LambdaEvent { Id = "o2", Type = EventType.MediaOpened, OccurredAt = Now.AddMinutes(-30), HubId = "h1", MediaId = "m1" });
            await before.RunHourlyAsync();
        }

        // The service stops, stays down for a while, and starts again.
        clock.SetUtcNow(Now.AddMinutes(-30).AddHours(hoursDown));
        var scheduler = Substitute.For<IRecomputeScheduler>();
        scheduler.ScheduleHourlyCatchUp().Returns("7");
        await using var after = new LambdaCoreHarness(events, views, clock, services => services.AddSingleton(scheduler));
        await after.StartAsync();
        await ActivatorUtilities.CreateInstance<BackfillStarter>(after.Services).ScheduleMissingBackfillsAsync(CancellationToken.None);

        scheduler.Received(expectCatchUp ? 1 : 0).ScheduleHourlyCatchUp();
        scheduler.DidNotReceive().ScheduleBackfill(Arg.Any<string>(), Arg.Any<IReadOnlyList<UtcHour>>(), Arg.Any<UtcHour>());
    }

    [Test]
    public async Task NewAggregation_Backfilled_StaysExactAndReachesThePresent()
    {
        var clock = new FakeTimeProvider(Now.AddDays(-4));
        var events = new InMemoryEventStore();
        var views = new InMemoryViewStore();
        await using (var before = new LambdaCoreHarness(events, views, clock))
        {
            await before.StartAsync();
            for (var t = Now.AddDays(-4); t < Now; t = t.AddMinutes(47))
            {
                clock.SetUtcNow(t);
                await before.IngestAsync(new LambdaEvent { Id = $"o{t.Ticks}", Type = EventType.MediaOpened, OccurredAt = t, HubId = "h1", MediaId = $"m{t.Minute % 4}" });
            }

            await before.RunHourlyAsync();
        }

        // The configuration gains an aggregation; the restarted service schedules its backfill.
        var scheduler = Substitute.For<IRecomputeScheduler>();
        var configuration = TestConfiguration.WithOpensByHub();
        await using var after = new LambdaCoreHarness(events, views, clock, services => services.AddSingleton(scheduler), configuration);
        await after.StartAsync();
        await ActivatorUtilities.CreateInstance<BackfillStarter>(after.Services).ScheduleMissingBackfillsAsync(CancellationToken.None);

        var firstHour = UtcHour.Containing(Now.AddDays(-4));
        scheduler.Received(1).ScheduleBackfill("opensByHub", Arg.Is<IReadOnlyList<UtcHour>>(hours => hours[0] == firstHour), UtcHour.Containing(Now));
        scheduler.DidNotReceive().ScheduleBackfill("mediaConsultations", Arg.Any<IReadOnlyList<UtcHour>>(), Arg.Any<UtcHour>());

        var expected = events.All.Count(e => e.OccurredAt >= Now.AddDays(-5));
        var watermarks = new List<UtcHour>();
        for (var cap = firstHour.AddHours(24); ; cap = UtcHour.Min(cap.AddHours(24), UtcHour.Containing(Now)))
        {
            await after.SendAsync(new BackfillStep("opensByHub", cap));
            var answer = await after.QueryAsync("opensByHub", "h1", Now.AddDays(-5), Now);
            Assert.That(((LambdaStats.Modules.Aggregation.CountAccumulator)answer.Totals.Outputs[0]).Value, Is.EqualTo(expected), $"answer after the backfill step up to {cap}");
            watermarks.Add(answer.Frontier.Watermark);
            if (cap == UtcHour.Containing(Now))
            {
                break;
            }
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(watermarks, Is.Ordered.Ascending, "finalUntil moves forward step by step");
            Assert.That(watermarks[^1], Is.EqualTo(UtcHour.Containing(Now)));
            Assert.That(after.Speed.GetHeldHours("opensByHub"), Is.EqualTo(new[] { UtcHour.Containing(Now) }), "the speed layer released the backfilled history and holds only the running hour");
        }
    }

    [Test]
    public async Task Recompute_CorruptedViews_RestoresExactAnswer()
    {
        var clock = new FakeTimeProvider(Now.AddDays(-2));
        var events = new InMemoryEventStore();
        var views = new InMemoryViewStore();
        await using var harness = new LambdaCoreHarness(events, views, clock);
        await harness.StartAsync();
        for (var t = Now.AddDays(-2); t < Now; t = t.AddMinutes(31))
        {
            clock.SetUtcNow(t);
            await harness.IngestAsync(new LambdaEvent { Id = $"o{t.Ticks}", Type = EventType.MediaOpened, OccurredAt = t, HubId = "h1", MediaId = "m1" });
        }

        await harness.RunHourlyAsync();
        await harness.RunDailyAsync();
        var exact = BruteForce.Of(await harness.QueryAsync("mediaConsultations", "h1", Now.AddDays(-3), Now, bucket: SeriesBucket.Hour));

        // Damage one hour's view behind the batch layer's back, as a faulty deployment might. The
        // write goes through the service's view store, as any writer in the process does, so the
        // view cache in front of the store drops the damaged hour.
        var definition = harness.Services.GetRequiredService<LambdaStats.Modules.Aggregation.AggregationCatalog>().Get("mediaConsultations");
        var frontier = await views.GetFrontierAsync(definition.ViewId, CancellationToken.None);
        var damaged = UtcHour.Containing(Now.AddHours(-30));
        await harness.Services.GetRequiredService<IViewStore>().CommitAsync(definition, [new BucketRows<UtcHour>(damaged, new Dictionary<LambdaStats.Modules.Aggregation.AggregationKey, LambdaStats.Modules.Aggregation.AggregateRow>())], [], frontier, CancellationToken.None);
        var wrong = BruteForce.Of(await harness.QueryAsync("mediaConsultations", "h1", Now.AddDays(-3), Now, bucket: SeriesBucket.Hour));

        var summary = await harness.SendAsync(new RecomputeHours("mediaConsultations", damaged.AddHours(-2), damaged.AddHours(3)));
        var repaired = BruteForce.Of(await harness.QueryAsync("mediaConsultations", "h1", Now.AddDays(-3), Now, bucket: SeriesBucket.Hour));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(wrong, Is.Not.EqualTo(exact), "the damage shows in the answer");
            Assert.That(summary.Aggregations.Single().BucketsWritten, Is.EqualTo(5), "the five hours of the range are rewritten");
            Assert.That(repaired, Is.EqualTo(exact), "the recompute restores the exact answer");
        }
    }
}
