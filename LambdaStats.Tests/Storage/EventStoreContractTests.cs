using System.Text.Json;
using LambdaStats.Modules.Common;
using LambdaStats.Modules.Events.Contracts;

namespace LambdaStats.Tests.Storage;

/// <summary>
/// The behaviour every <see cref="IEventStore"/> adapter must share, run against each adapter by
/// a derived fixture.
/// </summary>
public abstract class EventStoreContractTests
{
    protected static readonly DateTimeOffset HourStart = new(2025, 3, 10, 8, 0, 0, TimeSpan.Zero);
    private static readonly UtcHour Hour = UtcHour.StartingAt(HourStart);

    private IEventStore store = null!;

    /// <summary>The store under test; the derived fixture closes it and deletes its data in its own tear-down.</summary>
    protected IEventStore? Store => store;

    /// <summary>Opens the adapter on a new, empty store.</summary>
    protected abstract IEventStore OpenNewStore();

    /// <summary>Closes <paramref name="current"/> and opens the adapter again on the same store.</summary>
    protected abstract IEventStore Reopen(IEventStore current);

    [SetUp]
    public void OpenStore() => store = OpenNewStore();

    [Test]
    public async Task Append_SameIdTwiceInBatch_KeepsFirst()
    {
        var first = Event("a", HourStart, hub: "hub-first");
        var second = Event("b", HourStart);
        var repeat = Event("a", HourStart, hub: "hub-repeat");

        var result = await store.AppendAsync([first, second, repeat], CancellationToken.None);
        var scanned = await ScanAllAsync(EventType.MediaOpened);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Stored, Is.EqualTo(new[] { first, second }));
            Assert.That(result.Duplicates, Is.EqualTo(1));
            Assert.That(scanned.Select(e => e.Id), Is.EqualTo(new[] { "a", "b" }));
            Assert.That(scanned[0].HubId, Is.EqualTo("hub-first"));
        }
    }

    [Test]
    public async Task Append_IdStoredEarlier_CountsDuplicate()
    {
        await store.AppendAsync([Event("a", HourStart)], CancellationToken.None);

        var result = await store.AppendAsync([Event("a", HourStart.AddMinutes(5))], CancellationToken.None);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Stored, Is.Empty);
            Assert.That(result.Duplicates, Is.EqualTo(1));
            Assert.That(await store.GetMaxSequenceAsync(CancellationToken.None), Is.EqualTo(1));
            Assert.That(await store.CountAsync(EventType.MediaOpened, CancellationToken.None), Is.EqualTo(1));
        }
    }

    [Test]
    public async Task Append_IdStoredBeforeReopen_CountsDuplicate()
    {
        await store.AppendAsync([Event("a", HourStart), Event("b", HourStart)], CancellationToken.None);
        store = Reopen(store);

        var result = await store.AppendAsync([Event("b", HourStart), Event("c", HourStart)], CancellationToken.None);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Stored.Select(e => e.Id), Is.EqualTo(new[] { "c" }));
            Assert.That(result.Duplicates, Is.EqualTo(1));
            Assert.That((await ScanAllAsync(EventType.MediaOpened)).Select(e => e.Id), Is.EqualTo(new[] { "a", "b", "c" }));
            Assert.That(await store.GetMaxSequenceAsync(CancellationToken.None), Is.EqualTo(3));
        }
    }

    [Test]
    public async Task Append_MixedBatch_ReturnsInputOrder()
    {
        await store.AppendAsync([Event("x", HourStart), Event("y", HourStart)], CancellationToken.None);
        var batch = new[] { Event("d", HourStart), Event("x", HourStart), Event("c", HourStart), Event("y", HourStart), Event("b", HourStart) };

        var result = await store.AppendAsync(batch, CancellationToken.None);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Stored, Is.EqualTo(new[] { batch[0], batch[2], batch[4] }));
            Assert.That(result.Duplicates, Is.EqualTo(2));
        }
    }

    [Test]
    public async Task Append_EmptyBatch_StoresNothing()
    {
        var result = await store.AppendAsync([], CancellationToken.None);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Stored, Is.Empty);
            Assert.That(result.Duplicates, Is.Zero);
            Assert.That(await store.GetMaxSequenceAsync(CancellationToken.None), Is.Zero);
        }
    }

    [Test]
    public async Task Append_SuccessiveBatches_SequencesStrictlyIncrease()
    {
        // Each batch's events must sit in its own sequence window, above the previous batch, in
        // input order, whatever their times: the batch layer reads events by those windows.
        var batches = new[]
        {
            new[] { Event("b1-0", HourStart.AddMinutes(30)), Event("b1-1", HourStart.AddMinutes(10)) },
            new[] { Event("b2-0", HourStart.AddMinutes(5)), Event("b1-0", HourStart), Event("b2-1", HourStart.AddMinutes(50)), Event("b2-2", HourStart.AddMinutes(1)) },
            new[] { Event("b3-0", HourStart.AddMinutes(20)) },
        };
        var windows = new List<(long After, long UpTo)>();
        var previous = await store.GetMaxSequenceAsync(CancellationToken.None);
        foreach (var batch in batches)
        {
            await store.AppendAsync(batch, CancellationToken.None);
            var max = await store.GetMaxSequenceAsync(CancellationToken.None);
            windows.Add((previous, max));
            previous = max;
        }

        var inWindows = new List<string[]>();
        foreach (var (after, upTo) in windows)
        {
            var ids = new List<string>();
            await foreach (var e in store.ScanAsync(EventType.MediaOpened, HourStart, HourStart.AddHours(1), after, upTo, CancellationToken.None))
            {
                ids.Add(e.Id);
            }

            inWindows.Add([.. ids]);
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(windows.Select(w => w.UpTo - w.After), Is.EqualTo(new long[] { 2, 3, 1 }));
            Assert.That(windows[0].After, Is.Zero);
            Assert.That(inWindows[0], Is.EqualTo(new[] { "b1-0", "b1-1" }));
            Assert.That(inWindows[1], Is.EqualTo(new[] { "b2-0", "b2-1", "b2-2" }));
            Assert.That(inWindows[2], Is.EqualTo(new[] { "b3-0" }));
        }
    }

    [Test]
    public async Task Scan_ByType_ReturnsOnlyThatType()
    {
        await store.AppendAsync(
            [Event("open", HourStart), Event("page", HourStart, EventType.PageViewed), Event("open-2", HourStart.AddMinutes(1))],
            CancellationToken.None);

        var opened = await ScanAllAsync(EventType.MediaOpened);
        var pages = await ScanAllAsync(EventType.PageViewed);
        var shared = await ScanAllAsync(EventType.MediaShared);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(opened.Select(e => e.Id), Is.EqualTo(new[] { "open", "open-2" }));
            Assert.That(pages.Select(e => e.Id), Is.EqualTo(new[] { "page" }));
            Assert.That(shared, Is.Empty);
        }
    }

    [Test]
    public async Task Scan_TimeRange_IsHalfOpen()
    {
        var from = HourStart.AddMinutes(10);
        var to = HourStart.AddHours(2);
        await store.AppendAsync(
            [
                Event("before", from.AddTicks(-1)),
                Event("at-from", from),
                Event("next-hour", HourStart.AddHours(1).AddMinutes(30)),
                Event("last-tick", to.AddTicks(-1)),
                Event("at-to", to),
            ],
            CancellationToken.None);

        var scanned = new List<string>();
        await foreach (var e in store.ScanAsync(EventType.MediaOpened, from, to, 0, long.MaxValue, CancellationToken.None))
        {
            scanned.Add(e.Id);
        }

        Assert.That(scanned, Is.EquivalentTo(new[] { "at-from", "next-hour", "last-tick" }));
    }

    [Test]
    public async Task Scan_SequenceWindow_ReturnsWindowOnly()
    {
        await store.AppendAsync([Event("s1", HourStart), Event("s2", HourStart), Event("s3", HourStart), Event("s4", HourStart)], CancellationToken.None);

        var window = new List<string>();
        await foreach (var e in store.ScanAsync(EventType.MediaOpened, HourStart, HourStart.AddHours(1), 1, 3, CancellationToken.None))
        {
            window.Add(e.Id);
        }

        var empty = new List<string>();
        await foreach (var e in store.ScanAsync(EventType.MediaOpened, HourStart, HourStart.AddHours(1), 3, 3, CancellationToken.None))
        {
            empty.Add(e.Id);
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(window, Is.EqualTo(new[] { "s2", "s3" }));
            Assert.That(empty, Is.Empty);
        }
    }

    [Test]
    public async Task ScanHour_SeveralTypes_StopsAtSequence()
    {
        await store.AppendAsync(
            [
                Event("open-1", HourStart.AddMinutes(5)),
                Event("page-1", HourStart.AddMinutes(2), EventType.PageViewed),
                Event("open-next-hour", HourStart.AddHours(1)),
                Event("open-previous-hour", HourStart.AddTicks(-1)),
                Event("share-1", HourStart.AddMinutes(1), EventType.MediaShared),
                Event("open-2", HourStart.AddMinutes(1)),
                Event("page-2", HourStart.AddMinutes(59), EventType.PageViewed),
                Event("open-too-late", HourStart.AddMinutes(3)),
            ],
            CancellationToken.None);

        var scanned = new List<LambdaEvent>();
        await foreach (var e in store.ScanHourAsync(Hour, [EventType.PageViewed, EventType.MediaOpened], [EventField.Id], 7, CancellationToken.None))
        {
            scanned.Add(e);
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(scanned.Select(e => e.Id), Is.EquivalentTo(new[] { "open-1", "page-1", "open-2", "page-2" }));
            Assert.That(scanned.Where(e => e.Type == EventType.MediaOpened).Select(e => e.Id), Is.EqualTo(new[] { "open-1", "open-2" }));
            Assert.That(scanned.Where(e => e.Type == EventType.PageViewed).Select(e => e.Id), Is.EqualTo(new[] { "page-1", "page-2" }));
            Assert.That(await store.CountHourAsync(Hour, [EventType.PageViewed, EventType.MediaOpened], 7, CancellationToken.None), Is.EqualTo(4));
            Assert.That(await store.CountHourAsync(Hour, [EventType.MediaOpened], 8, CancellationToken.None), Is.EqualTo(3));
        }
    }

    [Test]
    public async Task ScanHour_RequestedFields_AreFilled()
    {
        var original = FullEvent();
        await store.AppendAsync([original], CancellationToken.None);
        EventField[] fields = [EventField.MediaId, EventField.VisitorId, EventField.Page, EventField.DurationSeconds];

        var scanned = new List<LambdaEvent>();
        await foreach (var e in store.ScanHourAsync(Hour, [EventType.PageViewed], fields, 1, CancellationToken.None))
        {
            scanned.Add(e);
        }

        var single = scanned.Single();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(single.Type, Is.EqualTo(original.Type));
            Assert.That(single.OccurredAt, Is.EqualTo(original.OccurredAt));
            Assert.That(single.HubId, Is.EqualTo(original.HubId));
            Assert.That(single.MediaId, Is.EqualTo(original.MediaId));
            Assert.That(single.VisitorId, Is.EqualTo(original.VisitorId));
            Assert.That(single.Page, Is.EqualTo(original.Page));
            Assert.That(single.DurationSeconds, Is.EqualTo(original.DurationSeconds));
        }
    }

    [Test]
    public async Task ScanHour_HubFilter_KeepsAcceptedHubs()
    {
        await store.AppendAsync(
            [Event("a", HourStart, hub: "hub-a"), Event("b", HourStart.AddMinutes(1), hub: "hub-b"), Event("a2", HourStart.AddMinutes(2), hub: "hub-a")],
            CancellationToken.None);

        var scanned = new List<string>();
        await foreach (var e in store.ScanHourAsync(Hour, [EventType.MediaOpened], [EventField.Id], 3, hub => hub == "hub-a", CancellationToken.None))
        {
            scanned.Add(e.Id);
        }

        Assert.That(scanned, Is.EqualTo(new[] { "a", "a2" }));
    }

    [Test]
    public async Task HoursWithEvents_TypeRangeAndWindow_Ascending()
    {
        await store.AppendAsync([Event("h3", HourStart.AddHours(3)), Event("h0", HourStart), Event("h1", HourStart.AddHours(1).AddMinutes(59))], CancellationToken.None);
        await store.AppendAsync(
            [Event("h5", HourStart.AddHours(5)), Event("h0-again", HourStart.AddMinutes(30)), Event("page-h2", HourStart.AddHours(2), EventType.PageViewed), Event("h6", HourStart.AddHours(6))],
            CancellationToken.None);

        var all = await store.GetHoursWithEventsAsync(EventType.MediaOpened, Hour, Hour.AddHours(6), 0, 7, CancellationToken.None);
        var secondBatch = await store.GetHoursWithEventsAsync(EventType.MediaOpened, Hour, Hour.AddHours(24), 3, 7, CancellationToken.None);
        var pages = await store.GetHoursWithEventsAsync(EventType.PageViewed, Hour, Hour.AddHours(24), 0, 7, CancellationToken.None);
        var emptyWindow = await store.GetHoursWithEventsAsync(EventType.MediaOpened, Hour, Hour.AddHours(24), 7, 7, CancellationToken.None);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(all, Is.EqualTo(new[] { Hour, Hour.AddHours(1), Hour.AddHours(3), Hour.AddHours(5) }));
            Assert.That(secondBatch, Is.EqualTo(new[] { Hour, Hour.AddHours(5), Hour.AddHours(6) }));
            Assert.That(pages, Is.EqualTo(new[] { Hour.AddHours(2) }));
            Assert.That(emptyWindow, Is.Empty);
        }
    }

    [Test]
    public async Task Count_PerType_CountsStoredOnly()
    {
        await store.AppendAsync([Event("a", HourStart), Event("b", HourStart), Event("p", HourStart, EventType.PageViewed)], CancellationToken.None);
        await store.AppendAsync([Event("a", HourStart), Event("c", HourStart.AddDays(3))], CancellationToken.None);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(await store.CountAsync(EventType.MediaOpened, CancellationToken.None), Is.EqualTo(3));
            Assert.That(await store.CountAsync(EventType.PageViewed, CancellationToken.None), Is.EqualTo(1));
            Assert.That(await store.CountAsync(EventType.Subscribed, CancellationToken.None), Is.Zero);
        }
    }

    [Test]
    public async Task Scan_EveryField_RoundTrips()
    {
        var original = FullEvent();
        await store.AppendAsync([original], CancellationToken.None);

        var scanned = (await ScanAllAsync(EventType.PageViewed)).Single();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(scanned.Id, Is.EqualTo(original.Id));
            Assert.That(scanned.Type, Is.EqualTo(original.Type));
            Assert.That(scanned.OccurredAt, Is.EqualTo(original.OccurredAt));
            Assert.That(scanned.OccurredAt.Offset, Is.EqualTo(TimeSpan.Zero));
            Assert.That(scanned.OccurredAt.Ticks, Is.EqualTo(original.OccurredAt.Ticks));
            Assert.That(scanned.HubId, Is.EqualTo(original.HubId));
            Assert.That(scanned.MediaId, Is.EqualTo(original.MediaId));
            Assert.That(scanned.VisitorId, Is.EqualTo(original.VisitorId));
            Assert.That(scanned.SessionId, Is.EqualTo(original.SessionId));
            Assert.That(scanned.Page, Is.EqualTo(original.Page));
            Assert.That(scanned.DurationSeconds, Is.EqualTo(original.DurationSeconds));
            Assert.That(scanned.Network, Is.EqualTo(original.Network));
            Assert.That(scanned.ContactKind, Is.EqualTo(original.ContactKind));
            Assert.That(scanned.Properties?.ValueKind, Is.EqualTo(JsonValueKind.Object));
            Assert.That(scanned.Properties?.GetRawText(), Is.EqualTo(original.Properties!.Value.GetRawText()));
        }
    }

    [Test]
    public async Task Scan_EmptyStrings_StayEmpty()
    {
        await store.AppendAsync(
            [new LambdaEvent { Id = "empty", Type = EventType.MediaShared, OccurredAt = HourStart, HubId = "hub-1", MediaId = "", VisitorId = "", Network = "" }],
            CancellationToken.None);

        var scanned = (await ScanAllAsync(EventType.MediaShared)).Single();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(scanned.MediaId, Is.Empty);
            Assert.That(scanned.VisitorId, Is.Empty);
            Assert.That(scanned.Network, Is.Empty);
            Assert.That(scanned.SessionId, Is.Null);
        }
    }

    [Test]
    public async Task Scan_NullOptionalFields_StayNull()
    {
        await store.AppendAsync([new LambdaEvent { Id = "bare", Type = EventType.HubVisited, OccurredAt = HourStart, HubId = "hub-1" }], CancellationToken.None);

        var scanned = (await ScanAllAsync(EventType.HubVisited)).Single();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(scanned.Id, Is.EqualTo("bare"));
            Assert.That(scanned.HubId, Is.EqualTo("hub-1"));
            Assert.That(scanned.OccurredAt, Is.EqualTo(HourStart));
            Assert.That(scanned.MediaId, Is.Null);
            Assert.That(scanned.VisitorId, Is.Null);
            Assert.That(scanned.SessionId, Is.Null);
            Assert.That(scanned.Page, Is.Null);
            Assert.That(scanned.DurationSeconds, Is.Null);
            Assert.That(scanned.Network, Is.Null);
            Assert.That(scanned.ContactKind, Is.Null);
            Assert.That(scanned.Properties, Is.Null);
        }
    }

    [Test]
    public async Task EmptyStore_MaxAndCounts_AreZero()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(await store.GetMaxSequenceAsync(CancellationToken.None), Is.Zero);
            Assert.That(await store.CountAsync(EventType.MediaOpened, CancellationToken.None), Is.Zero);
            Assert.That(await store.CountHourAsync(Hour, [EventType.MediaOpened], long.MaxValue, CancellationToken.None), Is.Zero);
            Assert.That(await store.GetHoursWithEventsAsync(EventType.MediaOpened, Hour, Hour.AddHours(24), 0, long.MaxValue, CancellationToken.None), Is.Empty);
        }
    }

    protected static LambdaEvent Event(string id, DateTimeOffset occurredAt, EventType type = EventType.MediaOpened, string hub = "hub-1") => new()
    {
        Id = id,
        Type = type,
        OccurredAt = occurredAt,
        HubId = hub,
        MediaId = "media-1",
    };

    protected async Task<List<LambdaEvent>> ScanAllAsync(EventType type)
    {
        var events = new List<LambdaEvent>();
        await foreach (var e in store.ScanAsync(type, DateTimeOffset.MinValue.AddDays(1), DateTimeOffset.MaxValue, 0, long.MaxValue, CancellationToken.None))
        {
            events.Add(e);
        }

        return events;
    }

    private static LambdaEvent FullEvent()
    {
        using var properties = JsonDocument.Parse("""{"campaign":"spring ☀","depth":{"level":3,"ratio":0.25,"whole":1.0},"tags":["a","b"],"empty":null,"big":12345678901234567890}""");
        return new LambdaEvent
        {
            Id = "event-∑-😀",
            Type = EventType.PageViewed,
            OccurredAt = HourStart.AddTicks(123_456_789),
            HubId = "hub-é",
            MediaId = "media-1",
            VisitorId = "visitor-1",
            SessionId = "session-1",
            Page = 42,
            DurationSeconds = 0.1 + 0.2,
            Network = "linkedin",
            ContactKind = "email",
            Properties = properties.RootElement.Clone(),
        };
    }
}
