using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Common;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.View.Contracts;
using LambdaStats.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace LambdaStats.Tests.Lambda;

/// <summary>Named cases of exactness: bucket edges, DST days, odd offsets and late events.</summary>
[TestFixture]
public sealed class ExactnessTests
{
    private static readonly TimeZoneInfo Paris = TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris");
    private static readonly TimeZoneInfo Kolkata = TimeZoneInfo.FindSystemTimeZoneById("Asia/Kolkata");

    private FakeTimeProvider clock = null!;
    private InMemoryEventStore events = null!;
    private LambdaCoreHarness harness = null!;
    private int nextId;

    [SetUp]
    public async Task SetUp()
    {
        clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        events = new InMemoryEventStore();
        harness = new LambdaCoreHarness(events, new InMemoryViewStore(), clock);
        await harness.StartAsync();
    }

    [TearDown]
    public async Task TearDown() => await harness.DisposeAsync();

    [Test]
    public async Task EventAtMidnight_CountsOnlyInNewHourAndDay()
    {
        var midnight = new DateTimeOffset(2026, 5, 2, 0, 0, 0, TimeSpan.Zero);
        clock.SetUtcNow(midnight.AddMinutes(30));
        await OpenAsync(midnight);
        await OpenAsync(midnight.AddTicks(-1));

        foreach (var stage in new[] { "speed layer", "hourly views", "daily views" })
        {
            if (stage == "hourly views")
            {
                clock.SetUtcNow(midnight.AddHours(2));
                await harness.RunHourlyAsync();
            }
            else if (stage == "daily views")
            {
                clock.SetUtcNow(midnight.AddDays(1).AddHours(1));
                await harness.RunHourlyAsync();
                await harness.RunDailyAsync();
            }

            var hours = await harness.QueryAsync("mediaConsultations", "h1", midnight.AddHours(-1), midnight.AddHours(1), bucket: SeriesBucket.Hour);
            var days = await harness.QueryAsync("mediaConsultations", "h1", midnight.AddDays(-1), midnight.AddDays(1), bucket: SeriesBucket.Day);
            var newHourOnly = await harness.QueryAsync("mediaConsultations", "h1", midnight, midnight.AddHours(1));
            using (Assert.EnterMultipleScope())
            {
                Assert.That(hours.Series.Select(p => (p.Start, Consultations(p.Values))), Is.EqualTo(new[] { (midnight.AddHours(-1), 1L), (midnight, 1L) }), $"hours from the {stage}");
                Assert.That(days.Series.Select(p => (p.Start, Consultations(p.Values))), Is.EqualTo(new[] { (midnight.AddDays(-1), 1L), (midnight, 1L) }), $"days from the {stage}");
                Assert.That(Consultations(newHourOnly.Totals), Is.EqualTo(1), $"[00:00, 01:00) from the {stage}");
            }
        }
    }

    [TestCase(2026, 3, 29, 23)]
    [TestCase(2026, 10, 25, 25)]
    public async Task ParisDstDay_HourlyBuckets_MatchLengthAndBruteForce(int year, int month, int day, int expectedHours)
    {
        var localMidnight = new DateTime(year, month, day, 0, 0, 0, DateTimeKind.Unspecified);
        var start = new DateTimeOffset(localMidnight, Paris.GetUtcOffset(localMidnight));
        var end = new DateTimeOffset(localMidnight.AddDays(1), Paris.GetUtcOffset(localMidnight.AddDays(1)));
        for (var t = start.AddHours(-2); t < end.AddHours(2); t = t.AddMinutes(23))
        {
            clock.SetUtcNow(t);
            await OpenAsync(t, t.Minute % 2 == 0 ? "m1" : "m2");
        }

        clock.SetUtcNow(end.AddDays(1).AddHours(3));
        foreach (var stage in new[] { "speed layer", "batch views" })
        {
            if (stage == "batch views")
            {
                await harness.RunHourlyAsync();
                await harness.RunDailyAsync();
            }

            var hours = await harness.QueryAsync("mediaConsultations", "h1", start, end, zone: Paris, bucket: SeriesBucket.Hour);
            var days = await harness.QueryAsync("mediaConsultations", "h1", start.AddHours(-2), end.AddHours(2), zone: Paris, bucket: SeriesBucket.Day);
            using (Assert.EnterMultipleScope())
            {
                Assert.That(hours.Series, Has.Count.EqualTo(expectedHours), $"hourly buckets from the {stage}");
                Assert.That(days.Series.Select(p => p.Start), Is.EqualTo(new[] { start.AddHours(-2), start, end }), $"local midnights from the {stage}");
                Assert.That(BruteForce.Of(days), Is.EqualTo(Expected(start.AddHours(-2), end.AddHours(2), Paris, SeriesBucket.Day)), $"daily totals from the {stage}");
                Assert.That(BruteForce.Of(hours), Is.EqualTo(Expected(start, end, Paris, SeriesBucket.Hour)), $"hourly totals from the {stage}");
            }
        }
    }

    [Test]
    public async Task KolkataLocalDay_EqualsBruteForce()
    {
        var start = new DateTimeOffset(2026, 6, 10, 0, 0, 0, TimeSpan.FromHours(5.5));
        var end = start.AddDays(1);
        for (var t = start.AddHours(-3); t < end.AddHours(3); t = t.AddMinutes(17))
        {
            clock.SetUtcNow(t);
            await OpenAsync(t, t.Minute % 3 == 0 ? "m1" : "m2");
        }

        clock.SetUtcNow(end.AddDays(2));
        await harness.RunHourlyAsync();
        await harness.RunDailyAsync();
        var day = await harness.QueryAsync("mediaConsultations", "h1", start, end, groupBy: "mediaId", zone: Kolkata, bucket: SeriesBucket.Day);
        var hours = await harness.QueryAsync("mediaConsultations", "h1", start, end, zone: Kolkata, bucket: SeriesBucket.Hour);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(day.Series, Has.Count.EqualTo(1));
            Assert.That(day.Series[0].Start, Is.EqualTo(start));
            Assert.That(BruteForce.Of(day), Is.EqualTo(Expected(start, end, Kolkata, SeriesBucket.Day, groupBy: "mediaId")));
            Assert.That(hours.Series, Has.Count.EqualTo(24));
            Assert.That(hours.Series.Select(p => p.Start.UtcDateTime.Minute).Distinct(), Is.EqualTo(new[] { 30 }), "local hours start at half past in UTC");
            Assert.That(BruteForce.Of(hours), Is.EqualTo(Expected(start, end, Kolkata, SeriesBucket.Hour)));
        }
    }

    [Test]
    public async Task LateEvent_ForClosedHour_VisibleAtOnceAndCountedOnceAfterRecompute()
    {
        var day = new DateTimeOffset(2026, 2, 3, 0, 0, 0, TimeSpan.Zero);
        clock.SetUtcNow(day.AddHours(9).AddMinutes(10));
        await OpenAsync(day.AddHours(9));
        clock.SetUtcNow(day.AddDays(1).AddHours(12));
        await harness.RunHourlyAsync();
        await harness.RunDailyAsync();

        await OpenAsync(day.AddHours(9).AddMinutes(30));
        var late = await harness.QueryAsync("mediaConsultations", "h1", day, day.AddDays(1));
        var lateMinute = await harness.QueryAsync("mediaConsultations", "h1", day.AddHours(9).AddMinutes(30), day.AddHours(9).AddMinutes(31));
        var beforeLateMinute = await harness.QueryAsync("mediaConsultations", "h1", day.AddHours(9), day.AddHours(9).AddMinutes(20));
        var heldHours = harness.Speed.GetHeldHours("mediaConsultations");
        await harness.RunHourlyAsync();
        var recomputed = await harness.QueryAsync("mediaConsultations", "h1", day, day.AddDays(1));
        var series = await harness.QueryAsync("mediaConsultations", "h1", day, day.AddDays(1), bucket: SeriesBucket.Day);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(Consultations(late.Totals), Is.EqualTo(2), "visible at once");
            Assert.That(late.IncludesLateEvents, Is.True, "the answer says it counts a late event");
            Assert.That(late.ProvisionalFrom, Is.EqualTo(day.AddHours(9)), "provisional from the late event's hour");
            Assert.That(Consultations(lateMinute.Totals), Is.EqualTo(1), "the late event's minute");
            Assert.That(lateMinute.IncludesLateEvents, Is.True, "a part of an hour also says it counts a late event");
            Assert.That(Consultations(beforeLateMinute.Totals), Is.EqualTo(1), "the batched event alone");
            Assert.That(beforeLateMinute.IncludesLateEvents, Is.False, "no late event in that part of the hour");
            Assert.That(heldHours, Does.Contain(UtcHour.Containing(day.AddHours(9))), "the speed layer holds the late hour until its recompute");
            Assert.That(Consultations(recomputed.Totals), Is.EqualTo(2), "counted once after the recompute");
            Assert.That(recomputed.IncludesLateEvents, Is.False);
            Assert.That(recomputed.ProvisionalFrom, Is.Null, "the views answer the whole period");
            Assert.That(Consultations(series.Series[0].Values), Is.EqualTo(2), "the daily view of that day is recomputed too");
            Assert.That(harness.Speed.GetHeldHours("mediaConsultations"), Does.Not.Contain(UtcHour.Containing(day.AddHours(9))));
            Assert.That(harness.Speed.DivergenceCount, Is.Zero);
        }
    }

    [Test]
    public async Task Divergence_BatchMissesAnEvent_IsCounted()
    {
        var lossy = new LossyEventStore(events);
        await using var lossyHarness = new LambdaCoreHarness(lossy, new InMemoryViewStore(), clock);
        await lossyHarness.StartAsync();
        var hour = new DateTimeOffset(2026, 2, 3, 9, 0, 0, TimeSpan.Zero);
        clock.SetUtcNow(hour.AddMinutes(5));
        await lossyHarness.IngestAsync(Open(hour.AddMinutes(1), "m1"), Open(hour.AddMinutes(2), "m2"));

        clock.SetUtcNow(hour.AddHours(1).AddMinutes(1));
        lossy.DropNextScannedEvent = true;
        await lossyHarness.RunHourlyAsync();

        Assert.That(lossyHarness.Speed.DivergenceCount, Is.EqualTo(1), "one key differs between the batch view and the speed buffer");
    }

    private async Task OpenAsync(DateTimeOffset occurredAt, string mediaId = "m1")
    {
        var result = await harness.IngestAsync(Open(occurredAt, mediaId));
        Assert.That(result.Accepted, Is.EqualTo(1));
    }

    private LambdaEvent Open(DateTimeOffset occurredAt, string mediaId) =>
        new() { Id = $"x{nextId++}", Type = EventType.MediaOpened, OccurredAt = occurredAt.ToUniversalTime(), HubId = "h1", MediaId = mediaId };

    private string Expected(DateTimeOffset from, DateTimeOffset to, TimeZoneInfo zone, SeriesBucket bucket, string? groupBy = null) =>
        BruteForce.Answer(Definition, events.All, "h1", from, to, groupBy, zone: zone, bucket: bucket);

    private AggregationDefinition Definition => harness.Services.GetRequiredService<AggregationCatalog>().Get("mediaConsultations");

    private static long Consultations(AggregateRow row) => ((CountAccumulator)row.Outputs[0]).Value;

    /// <summary>An event store whose scan can skip one event, to make the batch disagree with the speed layer.</summary>
    private sealed class LossyEventStore(IEventStore inner) : DelegatingEventStore(inner)
    {
        public bool DropNextScannedEvent { get; set; }

        public override async IAsyncEnumerable<LambdaEvent> ScanAsync(EventType type, DateTimeOffset from, DateTimeOffset to, long afterSequence, long upToSequence, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await foreach (var e in base.ScanAsync(type, from, to, afterSequence, upToSequence, cancellationToken))
            {
                if (DropNextScannedEvent && type == EventType.MediaOpened)
                {
                    DropNextScannedEvent = false;
                    continue;
                }

                yield return e;
            }
        }
    }
}
