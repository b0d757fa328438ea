using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Common;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace LambdaStats.Tests.Lambda;

/// <summary>Aggregations of one event type read each hour's events once between them, and each still gets its own exact views.</summary>
[TestFixture]
public sealed class SharedScanTests
{
    private static readonly DateTimeOffset Now = new(2026, 5, 20, 12, 10, 0, TimeSpan.Zero);

    [Test]
    public async Task HourlyBatch_SharedType_ScansOnce()
    {
        var clock = new FakeTimeProvider(Now.AddHours(-4));
        var events = new ScanCountingEventStore(new InMemoryEventStore());
        var configuration = TestConfiguration.WithOpensByHub();
        await using var harness = new LambdaCoreHarness(events, new InMemoryViewStore(), clock, configuration: configuration);
        await harness.StartAsync();
        var opens = 0;
        for (var t = Now.AddHours(-4); t < Now; t = t.AddMinutes(13), opens++)
        {
            clock.SetUtcNow(t);
            await harness.IngestAsync(new LambdaEvent { Id = $"o{opens}", Type = EventType.MediaOpened, OccurredAt = t, HubId = "h1", MediaId = $"m{opens % 3}" });
        }

        clock.SetUtcNow(Now);
        events.ClearScans();
        await harness.RunHourlyAsync();
        var scannedHours = events.ScannedHours(EventType.MediaOpened);

        var byHub = await harness.QueryAsync("opensByHub", "h1", Now.AddDays(-1), Now.AddHours(1));
        var byMedia = await harness.QueryAsync("mediaConsultations", "h1", Now.AddDays(-1), Now.AddHours(1));
        var closedHours = Enumerable.Range(0, 4).Select(i => UtcHour.Containing(Now).AddHours(i - 4)).ToArray();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(scannedHours, Is.EqualTo(closedHours), "one scan per closed hour for both aggregations");
            Assert.That(byHub.Frontier.Watermark, Is.EqualTo(UtcHour.Containing(Now)));
            Assert.That(byMedia.Frontier.Watermark, Is.EqualTo(UtcHour.Containing(Now)));
            Assert.That(((CountAccumulator)byHub.Totals.Outputs[0]).Value, Is.EqualTo(opens));
            Assert.That(((CountAccumulator)byMedia.Totals.Outputs[0]).Value, Is.EqualTo(opens));
        }
    }

    [Test]
    public async Task HourlyBatch_SeveralTypes_ReadsEachHourOnce()
    {
        var clock = new FakeTimeProvider(Now.AddHours(-3));
        var events = new HourReadCountingEventStore(new InMemoryEventStore());
        await using var harness = new LambdaCoreHarness(events, new InMemoryViewStore(), clock);
        await harness.StartAsync();
        var count = await IngestOpensAndViewsAsync(harness, clock, Now.AddHours(-3));

        clock.SetUtcNow(Now);
        await harness.RunHourlyAsync();

        var views = await harness.QueryAsync("pageViews", "h1", Now.AddDays(-1), Now.AddHours(1));
        var closedHours = Enumerable.Range(0, 3).Select(i => UtcHour.Containing(Now).AddHours(i - 3)).ToArray();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(events.Reads.Select(read => read.Hour), Is.EqualTo(closedHours), "one read per closed hour");
            Assert.That(events.Reads.Select(read => read.Types), Has.All.EquivalentTo(new[] { EventType.MediaOpened, EventType.PageViewed }));
            Assert.That(views.Frontier.Watermark, Is.EqualTo(UtcHour.Containing(Now)));
            Assert.That(((CountAccumulator)views.Totals.Outputs[0]).Value, Is.EqualTo(count / 2));
        }
    }

    [Test]
    public async Task ReadPerEventType_ReadsEachTypeOnce()
    {
        var clock = new FakeTimeProvider(Now.AddHours(-2));
        var events = new HourReadCountingEventStore(new InMemoryEventStore());
        await using var harness = new LambdaCoreHarness(events, new InMemoryViewStore(), clock, configuration: TestConfiguration.WithReadHourPerEventType(true));
        await harness.StartAsync();
        var count = await IngestOpensAndViewsAsync(harness, clock, Now.AddHours(-2));

        clock.SetUtcNow(Now);
        await harness.RunHourlyAsync();

        var views = await harness.QueryAsync("pageViews", "h1", Now.AddDays(-1), Now.AddHours(1));
        var closedHours = Enumerable.Range(0, 2).Select(i => UtcHour.Containing(Now).AddHours(i - 2)).ToArray();
        var expectedReads = closedHours.SelectMany(hour => new[] { (hour, EventType.MediaOpened), (hour, EventType.PageViewed) });
        using (Assert.EnterMultipleScope())
        {
            Assert.That(events.Reads.Select(read => read.Types.Length), Has.All.EqualTo(1), "one type per read");
            Assert.That(events.Reads.Select(read => (read.Hour, read.Types[0])), Is.EquivalentTo(expectedReads));
            Assert.That(views.Frontier.Watermark, Is.EqualTo(UtcHour.Containing(Now)));
            Assert.That(((CountAccumulator)views.Totals.Outputs[0]).Value, Is.EqualTo(count / 2));
        }
    }

    [TestCase(5, 1)]
    [TestCase(1_000, 2)]
    public async Task ManyNewEvents_ReadsEachTypeAlone(long threshold, int typesPerRead)
    {
        var clock = new FakeTimeProvider(Now.AddHours(-2));
        var events = new HourReadCountingEventStore(new InMemoryEventStore());
        var configuration = TestConfiguration.With(("Batch:ReadHourPerEventTypeAboveEvents", threshold.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        await using var harness = new LambdaCoreHarness(events, new InMemoryViewStore(), clock, configuration: configuration);
        await harness.StartAsync();
        var count = await IngestOpensAndViewsAsync(harness, clock, Now.AddHours(-2));

        clock.SetUtcNow(Now);
        await harness.RunHourlyAsync();

        var views = await harness.QueryAsync("pageViews", "h1", Now.AddDays(-1), Now.AddHours(1));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(count, Is.GreaterThan(5).And.LessThan(1_000), "the two thresholds fall on either side of the run's events");
            Assert.That(events.Reads, Is.Not.Empty);
            Assert.That(events.Reads.Select(read => read.Types.Length), Has.All.EqualTo(typesPerRead));
            Assert.That(((CountAccumulator)views.Totals.Outputs[0]).Value, Is.EqualTo(count / 2));
        }
    }

    /// <summary>Ingests a MediaOpened and a PageViewed event in turn, every 11 minutes from <paramref name="from"/> to <see cref="Now"/>, and returns their number.</summary>
    private static async Task<int> IngestOpensAndViewsAsync(LambdaCoreHarness harness, FakeTimeProvider clock, DateTimeOffset from)
    {
        var count = 0;
        for (var t = from; t < Now; t = t.AddMinutes(11), count++)
        {
            clock.SetUtcNow(t);
            var type = count % 2 == 0 ? EventType.MediaOpened : EventType.PageViewed;
            await harness.IngestAsync(new LambdaEvent { Id = $"e{count}", Type = type, OccurredAt = t, HubId = "h1", MediaId = "m1", Page = 1, DurationSeconds = 2 });
        }

        return count;
    }

    /// <summary>Records every read of an hour for the batch and the types it requested.</summary>
    private sealed class HourReadCountingEventStore(IEventStore inner) : DelegatingEventStore(inner), IEventStore
    {
        private readonly Lock sync = new();
        private readonly List<(UtcHour Hour, EventType[] Types)> reads = [];

        public IReadOnlyList<(UtcHour Hour, EventType[] Types)> Reads
        {
            get
            {
                lock (sync)
                {
                    return reads.OrderBy(read => read.Hour).ToList();
                }
            }
        }

        IAsyncEnumerable<LambdaEvent> IEventStore.ScanHourAsync(UtcHour hour, IReadOnlyCollection<EventType> types, IReadOnlyCollection<EventField> fields, long upToSequence, CancellationToken cancellationToken)
        {
            lock (sync)
            {
                reads.Add((hour, types.ToArray()));
            }

            return EventStoreScans.ScanHourByTypeAsync(this, hour, types, upToSequence, cancellationToken);
        }
    }

    /// <summary>Records the first hour of every scan, per event type. The batch scans several types at once, so the record is locked.</summary>
    private sealed class ScanCountingEventStore(IEventStore inner) : DelegatingEventStore(inner)
    {
        private readonly Lock sync = new();
        private readonly List<(EventType Type, UtcHour Hour)> scans = [];

        public void ClearScans()
        {
            lock (sync)
            {
                scans.Clear();
            }
        }

        public IReadOnlyList<UtcHour> ScannedHours(EventType type)
        {
            lock (sync)
            {
                return scans.Where(scan => scan.Type == type).Select(scan => scan.Hour).ToList();
            }
        }

        public override IAsyncEnumerable<LambdaEvent> ScanAsync(EventType type, DateTimeOffset from, DateTimeOffset to, long afterSequence, long upToSequence, CancellationToken cancellationToken)
        {
            lock (sync)
            {
                scans.Add((type, UtcHour.Containing(from)));
            }

            return base.ScanAsync(type, from, to, afterSequence, upToSequence, cancellationToken);
        }
    }
}
