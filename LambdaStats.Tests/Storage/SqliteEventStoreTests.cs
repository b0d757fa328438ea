using System.Text.Json;
using LambdaStats.Modules.Common;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.Storage.Sqlite;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using HourSearch = LambdaStats.Modules.Storage.Sqlite.SqliteEventStore.HourSearch;

namespace LambdaStats.Tests.Storage;

[TestFixture]
public sealed class SqliteEventStoreTests
{
    private static readonly DateTimeOffset HourStart = new(2025, 3, 10, 8, 0, 0, TimeSpan.Zero);
    private static readonly UtcHour Hour = UtcHour.StartingAt(HourStart);

    private TemporaryDirectory directory = null!;
    private SqliteEventStore store = null!;

    [SetUp]
    public void SetUp()
    {
        directory = new TemporaryDirectory();
        store = directory.OpenEventStore();
    }

    [TearDown]
    public void TearDown()
    {
        store.Dispose();
        directory.Dispose();
    }

    [Test]
    public async Task AppendAsync_LargeBatchWithDuplicates_StoresEachIdOnce()
    {
        // 700 events span full multi-row inserts, a partial one and several id lookups. Every
        // third id was stored by an earlier call, and every tenth event repeats an earlier id.
        var earlier = Enumerable.Range(0, 700).Where(i => i % 3 == 0).Select(i => Event($"id-{i}", HourStart)).ToList();
        await store.AppendAsync(earlier, CancellationToken.None);
        var batch = Enumerable.Range(0, 700)
            .Select(i => i % 10 == 9 ? Event($"id-{i - 5}", HourStart.AddSeconds(i), hub: "hub-repeat") : Event($"id-{i}", HourStart.AddSeconds(i)))
            .ToList();
        var expected = batch.Where(e => e.HubId != "hub-repeat" && int.Parse(e.Id[3..], System.Globalization.CultureInfo.InvariantCulture) % 3 != 0).ToList();

        var result = await store.AppendAsync(batch, CancellationToken.None);
        var scanned = await ScanAllAsync(EventType.MediaOpened);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Stored, Is.EqualTo(expected));
            Assert.That(result.Duplicates, Is.EqualTo(batch.Count - expected.Count));
            Assert.That(await store.GetMaxSequenceAsync(CancellationToken.None), Is.EqualTo(earlier.Count + expected.Count));
            Assert.That(await store.CountAsync(EventType.MediaOpened, CancellationToken.None), Is.EqualTo(earlier.Count + expected.Count));
            Assert.That(scanned.Select(e => e.Id).Distinct().Count(), Is.EqualTo(scanned.Count));
            Assert.That(scanned.Where(e => e.HubId == "hub-repeat"), Is.Empty);
        }
    }

    [Test]
    public async Task AppendAsync_StoredIdMidChunk_NoGap()
    {
        // Stored ids sit at the start, middle and end of full 32-row inserts and in the last,
        // shorter one. Each such insert is rolled back and retried without them.
        await store.AppendAsync([Event("s-0", HourStart), Event("s-47", HourStart), Event("s-63", HourStart), Event("s-90", HourStart)], CancellationToken.None);
        var batch = Enumerable.Range(0, 100).Select(i => Event($"s-{i}", HourStart.AddSeconds(i))).ToList();

        var result = await store.AppendAsync(batch, CancellationToken.None);
        var after = await store.AppendAsync([Event("t-1", HourStart), Event("t-2", HourStart)], CancellationToken.None);
        var sequences = await ScanSequencesAsync();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Stored.Select(e => e.Id), Is.EqualTo(batch.Select(e => e.Id).Except(["s-0", "s-47", "s-63", "s-90"])));
            Assert.That(result.Duplicates, Is.EqualTo(4));
            Assert.That(after.Stored, Has.Count.EqualTo(2));
            Assert.That(sequences, Is.EqualTo(Enumerable.Range(1, 102).Select(i => (long)i)));
            Assert.That(await store.CountAsync(EventType.MediaOpened, CancellationToken.None), Is.EqualTo(102));
        }
    }

    [Test]
    public async Task AppendAsync_EmptyOptionalText_StaysEmpty()
    {
        var e = new LambdaEvent { Id = "empty", Type = EventType.HubVisited, OccurredAt = HourStart, HubId = "hub-1", VisitorId = string.Empty, SessionId = null };

        await store.AppendAsync([e], CancellationToken.None);
        var scanned = (await ScanAllAsync(EventType.HubVisited)).Single();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(scanned.VisitorId, Is.EqualTo(string.Empty));
            Assert.That(scanned.SessionId, Is.Null);
        }
    }

    [Test]
    public async Task AppendAsync_AfterFailedInsert_StoresNextBatch()
    {
        // A file that may not grow makes the 32-row insert fail with SQLITE_FULL. The prepared
        // insert must still take the next batch once the file may grow again.
        await store.AppendAsync([Event("first", HourStart)], CancellationToken.None);
        var pages = (long)store.RunWriterPragma("page_count")!;
        store.RunWriterPragma($"max_page_count = {pages}");
        var large = Enumerable.Range(0, 64).Select(i => Event($"large-{i}-{new string('x', 100)}", HourStart)).ToList();

        Assert.That(async () => await store.AppendAsync(large, CancellationToken.None), Throws.InstanceOf<SqliteException>());

        store.RunWriterPragma("max_page_count = 1000000");
        var result = await store.AppendAsync(large, CancellationToken.None);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Stored, Has.Count.EqualTo(64));
            Assert.That(await ScanSequencesAsync(), Is.EqualTo(Enumerable.Range(1, 65).Select(i => (long)i)));
        }
    }

    [Test]
    public void Writer_StatementJournals_StayInMemory()
    {
        // 2 is MEMORY: a multi-row insert's statement journal never goes to a temporary file.
        Assert.That(store.RunWriterPragma("temp_store"), Is.EqualTo(2L));
    }

    [Test]
    public async Task AppendAsync_LoneSurrogateIds_CollideAsInSqlite()
    {
        // SQLite stores both ids as UTF-8 with U+FFFD in place of the lone surrogate, so they
        // are the same id there although .NET compares them as different.
        var first = Event("id-\uD800", HourStart);
        var second = Event("id-\uDBFF", HourStart);

        var result = await store.AppendAsync([first, second], CancellationToken.None);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Stored, Is.EqualTo(new[] { first }));
            Assert.That(result.Duplicates, Is.EqualTo(1));
            Assert.That(await store.GetMaxSequenceAsync(CancellationToken.None), Is.EqualTo(1));
        }
    }

    [Test]
    public async Task AppendAsync_CancelledMidBatch_StoresNothing()
    {
        using var cancellation = new CancellationTokenSource();
        var batch = new CancellingList<LambdaEvent>([Event("a", HourStart), Event("b", HourStart), Event("c", HourStart)], 2, cancellation);

        Assert.That(
            async () => await store.AppendAsync(batch, cancellation.Token),
            Throws.InstanceOf<OperationCanceledException>());

        using (Assert.EnterMultipleScope())
        {
            Assert.That(await store.GetMaxSequenceAsync(CancellationToken.None), Is.Zero);
            Assert.That(await store.CountAsync(EventType.MediaOpened, CancellationToken.None), Is.Zero);
            Assert.That(await ScanAllAsync(EventType.MediaOpened), Is.Empty);
        }

        var retry = await store.AppendAsync([Event("a", HourStart)], CancellationToken.None);
        Assert.That(retry.Stored, Has.Count.EqualTo(1), "the rolled back id must still be free");
    }

    [Test]
    public async Task AppendAsync_ConcurrentCalls_StoreEachIdOnce()
    {
        // Eight callers append overlapping ranges of 100 ids out of 400 distinct ones.
        var calls = Enumerable.Range(0, 8)
            .Select(caller => Task.Run(() => store.AppendAsync(
                Enumerable.Range(caller * 50, 100).Select(i => Event($"e{i % 400}", HourStart.AddSeconds(i))).ToArray(),
                CancellationToken.None)))
            .ToArray();
        var results = await Task.WhenAll(calls);

        var storedIds = results.SelectMany(r => r.Stored).Select(e => e.Id).ToList();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(storedIds, Is.Unique);
            Assert.That(storedIds, Has.Count.EqualTo(400));
            Assert.That(results.Sum(r => r.Duplicates), Is.EqualTo(800 - 400));
            Assert.That(await store.GetMaxSequenceAsync(CancellationToken.None), Is.EqualTo(400));
            Assert.That(await store.CountAsync(EventType.MediaOpened, CancellationToken.None), Is.EqualTo(400));
        }
    }

    [Test]
    public async Task GetMaxSequenceAsync_EmptyStore_ReturnsZero()
    {
        Assert.That(await store.GetMaxSequenceAsync(CancellationToken.None), Is.Zero);
    }

    [Test]
    public async Task GetMaxSequenceAsync_AfterAppends_IncreasesStrictly()
    {
        await store.AppendAsync([Event("a", HourStart), Event("b", HourStart), Event("c", HourStart)], CancellationToken.None);
        var afterBatch = await store.GetMaxSequenceAsync(CancellationToken.None);

        await store.AppendAsync([Event("b", HourStart)], CancellationToken.None);
        var afterDuplicate = await store.GetMaxSequenceAsync(CancellationToken.None);

        await store.AppendAsync([Event("d", HourStart)], CancellationToken.None);
        var afterNew = await store.GetMaxSequenceAsync(CancellationToken.None);

        store.Dispose();
        store = directory.OpenEventStore();
        await store.AppendAsync([Event("e", HourStart)], CancellationToken.None);
        var afterReopen = await store.GetMaxSequenceAsync(CancellationToken.None);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(afterBatch, Is.EqualTo(3));
            Assert.That(afterDuplicate, Is.EqualTo(3));
            Assert.That(afterNew, Is.EqualTo(4));
            Assert.That(afterReopen, Is.EqualTo(5));
        }
    }

    [Test]
    public async Task AppendAsync_HighestRowDeleted_DoesNotReuseSequence()
    {
        await store.AppendAsync([Event("a", HourStart), Event("b", HourStart)], CancellationToken.None);
        ExecuteOnFile("DELETE FROM events WHERE seq = 2;");

        await store.AppendAsync([Event("c", HourStart)], CancellationToken.None);
        var afterTwo = await ScanAllAsync(EventType.MediaOpened, afterSequence: 2);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(await store.GetMaxSequenceAsync(CancellationToken.None), Is.EqualTo(3));
            Assert.That(afterTwo.Select(e => e.Id), Is.EqualTo(new[] { "c" }));
        }
    }

    [Test]
    public async Task ScanAsync_OtherType_IsExcluded()
    {
        await store.AppendAsync(
            [Event("open", HourStart), Event("view", HourStart, EventType.PageViewed), Event("open-2", HourStart.AddMinutes(1))],
            CancellationToken.None);

        var opened = await ScanAllAsync(EventType.MediaOpened);
        var viewed = await ScanAllAsync(EventType.PageViewed);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(opened.Select(e => e.Id), Is.EqualTo(new[] { "open", "open-2" }));
            Assert.That(viewed.Select(e => e.Id), Is.EqualTo(new[] { "view" }));
        }
    }

    [Test]
    public async Task ScanAsync_EventAtHourStart_BelongsToThatHour()
    {
        await store.AppendAsync(
            [
                Event("last-tick-before", HourStart.AddTicks(-1)),
                Event("at-start", HourStart),
                Event("last-tick", HourStart.AddHours(1).AddTicks(-1)),
                Event("at-next-start", HourStart.AddHours(1)),
            ],
            CancellationToken.None);

        var scanned = await ScanAsync(EventType.MediaOpened, HourStart, HourStart.AddHours(1), 0, long.MaxValue);

        Assert.That(scanned.Select(e => e.Id), Is.EqualTo(new[] { "at-start", "last-tick" }));
    }

    [Test]
    public async Task ScanAsync_RangeInsideHour_UsesExactTimes()
    {
        await store.AppendAsync(
            [
                Event("before", HourStart.AddMinutes(14)),
                Event("at-from", HourStart.AddMinutes(15)),
                Event("inside", HourStart.AddMinutes(30)),
                Event("at-to", HourStart.AddMinutes(45)),
            ],
            CancellationToken.None);

        var scanned = await ScanAsync(EventType.MediaOpened, HourStart.AddMinutes(15), HourStart.AddMinutes(45), 0, long.MaxValue);

        Assert.That(scanned.Select(e => e.Id), Is.EqualTo(new[] { "at-from", "inside" }));
    }

    [Test]
    public async Task ScanAsync_NonZeroOffsetBounds_CompareAsUtc()
    {
        await store.AppendAsync([Event("a", HourStart), Event("b", HourStart.AddHours(1))], CancellationToken.None);
        var offset = TimeSpan.FromHours(2);

        var scanned = await ScanAsync(EventType.MediaOpened, HourStart.ToOffset(offset), HourStart.AddHours(1).ToOffset(offset), 0, long.MaxValue);

        Assert.That(scanned.Select(e => e.Id), Is.EqualTo(new[] { "a" }));
    }

    [Test]
    public async Task ScanAsync_SequenceWindow_ExcludesAfterIncludesUpTo()
    {
        // Sequences 1 to 5, in append order.
        foreach (var id in new[] { "s1", "s2", "s3", "s4", "s5" })
        {
            await store.AppendAsync([Event(id, HourStart)], CancellationToken.None);
        }

        var window = await ScanAsync(EventType.MediaOpened, HourStart, HourStart.AddHours(1), 2, 4);
        var fromStart = await ScanAsync(EventType.MediaOpened, HourStart, HourStart.AddHours(1), 0, 1);
        var toEnd = await ScanAsync(EventType.MediaOpened, HourStart, HourStart.AddHours(1), 4, long.MaxValue);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(window.Select(e => e.Id), Is.EqualTo(new[] { "s3", "s4" }));
            Assert.That(fromStart.Select(e => e.Id), Is.EqualTo(new[] { "s1" }));
            Assert.That(toEnd.Select(e => e.Id), Is.EqualTo(new[] { "s5" }));
        }
    }

    [Test]
    public async Task ScanAsync_EmptyOrInvertedRange_ReturnsNothing()
    {
        await store.AppendAsync([Event("a", HourStart)], CancellationToken.None);

        var emptyTime = await ScanAsync(EventType.MediaOpened, HourStart, HourStart, 0, long.MaxValue);
        var invertedTime = await ScanAsync(EventType.MediaOpened, HourStart.AddHours(1), HourStart, 0, long.MaxValue);
        var emptyWindow = await ScanAsync(EventType.MediaOpened, HourStart, HourStart.AddHours(1), 1, 1);
        var invertedWindow = await ScanAsync(EventType.MediaOpened, HourStart, HourStart.AddHours(1), 1, 0);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(emptyTime, Is.Empty);
            Assert.That(invertedTime, Is.Empty);
            Assert.That(emptyWindow, Is.Empty);
            Assert.That(invertedWindow, Is.Empty);
        }
    }

    [Test]
    public async Task ScanAsync_SeveralHours_ReturnsHourThenSequenceOrder()
    {
        await store.AppendAsync(
            [Event("h2-a", HourStart.AddHours(2)), Event("h0-a", HourStart.AddMinutes(50)), Event("h0-b", HourStart.AddMinutes(10)), Event("h1-a", HourStart.AddHours(1))],
            CancellationToken.None);

        var scanned = await ScanAllAsync(EventType.MediaOpened);

        Assert.That(scanned.Select(e => e.Id), Is.EqualTo(new[] { "h0-a", "h0-b", "h1-a", "h2-a" }));
    }

    [Test]
    public async Task ScanAsync_AppendDuringScan_ReadsSnapshotWithoutBlocking()
    {
        await store.AppendAsync(Enumerable.Range(0, 50).Select(i => Event($"old-{i}", HourStart.AddSeconds(i))).ToArray(), CancellationToken.None);

        var scanned = new List<LambdaEvent>();
        AppendResult? appended = null;
        await foreach (var e in store.ScanAsync(EventType.MediaOpened, HourStart, HourStart.AddHours(1), 0, long.MaxValue, CancellationToken.None))
        {
            scanned.Add(e);
            if (appended is null)
            {
                var append = store.AppendAsync([Event("new", HourStart.AddMinutes(59))], CancellationToken.None);
                Assert.That(append.Wait(TimeSpan.FromSeconds(10)), Is.True, "the append must not wait for the open scan");
                appended = await append;
            }
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(appended!.Stored, Has.Count.EqualTo(1));
            Assert.That(scanned, Has.Count.EqualTo(50));
            Assert.That(scanned.Select(e => e.Id), Has.None.EqualTo("new"));
            Assert.That(await ScanAllAsync(EventType.MediaOpened), Has.Count.EqualTo(51));
        }
    }

    [Test]
    public async Task ScanAsync_CancelledWhileStreaming_Throws()
    {
        await store.AppendAsync([Event("a", HourStart), Event("b", HourStart), Event("c", HourStart)], CancellationToken.None);
        using var cancellation = new CancellationTokenSource();
        var read = 0;

        Assert.That(
            async () =>
            {
                await foreach (var unused in store.ScanAsync(EventType.MediaOpened, HourStart, HourStart.AddHours(1), 0, long.MaxValue, cancellation.Token))
                {
                    read++;
                    await cancellation.CancelAsync();
                }
            },
            Throws.InstanceOf<OperationCanceledException>());
        Assert.That(read, Is.EqualTo(1));
    }

    private static IEnumerable<TestCaseData> HourWindowCases()
    {
        // Events, in append order (sequence): 1 at hour 0, 2 at hour 1, 3 at hour 5 (PageViewed),
        // 4 at hour 5, 5 at hour 1, 6 at hour 7, 7 at hour 10.
        var cases = new (string Name, int From, int To, long After, long UpTo, int[] Expected)[]
        {
            ("every sequence", 0, 11, 0, long.MaxValue, [0, 1, 5, 7, 10]),
            ("first two sequences", 0, 11, 0, 2, [0, 1]),
            ("late event in an earlier hour", 0, 11, 4, 5, [1]),
            ("after excludes its own sequence", 0, 11, 3, 4, [5]),
            ("other type only", 0, 11, 2, 3, []),
            ("to excludes its hour", 1, 10, 0, long.MaxValue, [1, 5, 7]),
            ("from includes its hour", 5, 6, 0, long.MaxValue, [5]),
            ("empty hour range", 3, 3, 0, long.MaxValue, []),
            ("window past the last sequence", 0, 11, 7, long.MaxValue, []),
            ("negative after", 0, 2, -5, 1, [0]),
        };

        foreach (var byIndex in new[] { true, false })
        {
            foreach (var c in cases)
            {
                var search = byIndex ? nameof(HourSearch.ByIndex) : nameof(HourSearch.BySequence);
                yield return new TestCaseData(byIndex, c.From, c.To, c.After, c.UpTo, c.Expected).SetArgDisplayNames(search, c.Name);
            }
        }
    }

    [TestCaseSource(nameof(HourWindowCases))]
    public async Task GetHoursWithEventsAsync_Window_ReturnsMatchingHours(bool byIndex, int fromOffset, int toOffset, long after, long upTo, int[] expectedOffsets)
    {
        await AppendHourWindowEventsAsync();

        var search = byIndex ? HourSearch.ByIndex : HourSearch.BySequence;
        var hours = await store.GetHoursWithEventsAsync(EventType.MediaOpened, Hour.AddHours(fromOffset), Hour.AddHours(toOffset), after, upTo, search, CancellationToken.None);

        Assert.That(hours, Is.EqualTo(expectedOffsets.Select(offset => Hour.AddHours(offset))));
    }

    [TestCase(0, long.MaxValue)]
    [TestCase(4, 5)]
    [TestCase(0, 20_000)]
    public async Task GetHoursWithEventsAsync_PublicOverload_MatchesBothSearches(long after, long upTo)
    {
        await AppendHourWindowEventsAsync();

        var chosen = await store.GetHoursWithEventsAsync(EventType.MediaOpened, Hour, Hour.AddHours(11), after, upTo, CancellationToken.None);
        var byIndex = await store.GetHoursWithEventsAsync(EventType.MediaOpened, Hour, Hour.AddHours(11), after, upTo, HourSearch.ByIndex, CancellationToken.None);
        var bySequence = await store.GetHoursWithEventsAsync(EventType.MediaOpened, Hour, Hour.AddHours(11), after, upTo, HourSearch.BySequence, CancellationToken.None);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(chosen, Is.Not.Empty);
            Assert.That(chosen, Is.EqualTo(byIndex));
            Assert.That(chosen, Is.EqualTo(bySequence));
        }
    }

    [Test]
    public async Task HoursWithEvents_SameWindow_PerType()
    {
        await store.AppendAsync([Event("o-1", HourStart), Event("v-1", HourStart.AddHours(2), EventType.HubVisited), Event("o-2", HourStart.AddHours(3))], CancellationToken.None);

        var opened = await store.GetHoursWithEventsAsync(EventType.MediaOpened, Hour, Hour.AddHours(5), 0, 3, HourSearch.BySequence, CancellationToken.None);
        var visited = await store.GetHoursWithEventsAsync(EventType.HubVisited, Hour, Hour.AddHours(5), 0, 3, HourSearch.BySequence, CancellationToken.None);
        var openedBefore3 = await store.GetHoursWithEventsAsync(EventType.MediaOpened, Hour, Hour.AddHours(3), 0, 3, HourSearch.BySequence, CancellationToken.None);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(opened, Is.EqualTo(new[] { Hour, Hour.AddHours(3) }));
            Assert.That(visited, Is.EqualTo(new[] { Hour.AddHours(2) }));
            Assert.That(openedBefore3, Is.EqualTo(new[] { Hour }));
        }
    }

    [Test]
    public async Task HoursWithEvents_OpenWindow_SeesAppends()
    {
        await store.AppendAsync([Event("o-1", HourStart)], CancellationToken.None);
        var before = await store.GetHoursWithEventsAsync(EventType.MediaOpened, Hour, Hour.AddHours(5), 0, 10, HourSearch.BySequence, CancellationToken.None);

        await store.AppendAsync([Event("o-2", HourStart.AddHours(4))], CancellationToken.None);
        var after = await store.GetHoursWithEventsAsync(EventType.MediaOpened, Hour, Hour.AddHours(5), 0, 10, HourSearch.BySequence, CancellationToken.None);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(before, Is.EqualTo(new[] { Hour }));
            Assert.That(after, Is.EqualTo(new[] { Hour, Hour.AddHours(4) }));
        }
    }

    [TestCase(5_000, 1, true)]
    [TestCase(10_000, 0, true)]
    [TestCase(10_001, 11, false)]
    [TestCase(20_000, 2_000, true)]
    [TestCase(1_000_001, 10_000_000, false)]
    public void ChooseHourSearch_WindowAndHours_PicksCheaperSearch(long windowRows, long hourCount, bool bySequence)
    {
        var expected = bySequence ? HourSearch.BySequence : HourSearch.ByIndex;

        Assert.That(SqliteEventStore.ChooseHourSearch(windowRows, hourCount), Is.EqualTo(expected));
    }

    [Test]
    public async Task CountAsync_AfterAppends_CountsStoredEventsPerType()
    {
        await store.AppendAsync([Event("a", HourStart), Event("b", HourStart), Event("a", HourStart), Event("v", HourStart, EventType.PageViewed)], CancellationToken.None);
        await store.AppendAsync([Event("b", HourStart), Event("c", HourStart.AddDays(-3))], CancellationToken.None);
        store.Dispose();
        store = directory.OpenEventStore();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(await store.CountAsync(EventType.MediaOpened, CancellationToken.None), Is.EqualTo(3));
            Assert.That(await store.CountAsync(EventType.PageViewed, CancellationToken.None), Is.EqualTo(1));
            Assert.That(await store.CountAsync(EventType.Subscribed, CancellationToken.None), Is.Zero);
        }
    }

    [Test]
    public void ScanSql_QueryPlan_SeeksTypeHourIndexWithoutSort()
    {
        var plan = ExplainOnFile(SqliteEventStore.ScanSql, "?1", "?2", "?3", "?4", "?5", "?6", "?7");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(plan, Does.Contain("USING INDEX events_type_hour_seq (type=? AND hour>? AND hour<?)"));
            Assert.That(plan, Does.Not.Contain("TEMP B-TREE"));
        }
    }

    [Test]
    public void HoursByIndexSql_QueryPlan_SeeksCoveringIndexOnly()
    {
        var plan = ExplainOnFile(SqliteEventStore.HoursByIndexSql, "$type", "$from_hour", "$to_hour", "$after_seq", "$up_to_seq");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(plan, Does.Contain("USING COVERING INDEX events_type_hour_seq (type=? AND hour=? AND seq>? AND seq<?)"));
            Assert.That(plan, Does.Not.Contain("SCAN events"));
        }
    }

    [Test]
    public void WindowHoursSql_QueryPlan_SeeksRowidRange()
    {
        var plan = ExplainOnFile(SqliteEventStore.WindowHoursSql, "?1", "?2");

        Assert.That(plan, Does.Contain("USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)"));
    }

    [Test]
    public void Constructor_DataDirectoryIsAFile_ThrowsNamingPathAndSetting()
    {
        var filePath = Path.Combine(directory.Path, "not-a-directory");
        File.WriteAllText(filePath, "x");
        var options = Microsoft.Extensions.Options.Options.Create(new SqliteStorageOptions { DataDirectory = filePath });

        Assert.That(
            () => new SqliteEventStore(options, Microsoft.Extensions.Logging.Abstractions.NullLogger<SqliteEventStore>.Instance),
            Throws.InvalidOperationException
                .With.Message.Contains(filePath)
                .And.Message.Contains("Storage:DataDirectory"));
    }

    [Test]
    public void Constructor_FileIsNotSqlite_ThrowsNamingPath()
    {
        var subdirectory = Path.Combine(directory.Path, "corrupt");
        Directory.CreateDirectory(subdirectory);
        var filePath = Path.Combine(subdirectory, SqliteStorageOptions.EventsFileName);
        File.WriteAllText(filePath, new string('x', 4096));

        Assert.That(
            () => new SqliteEventStore(directory.Options("corrupt"), Microsoft.Extensions.Logging.Abstractions.NullLogger<SqliteEventStore>.Instance),
            Throws.InvalidOperationException
                .With.Message.Contains(filePath)
                .And.Message.Contains("Storage:DataDirectory"));
    }

    [Test]
    public void Constructor_OtherSchemaVersion_ThrowsNamingVersions()
    {
        ExecuteOnFile("PRAGMA user_version = 99;");
        store.Dispose();

        Assert.That(
            () => directory.OpenEventStore(),
            Throws.InvalidOperationException
                .With.Message.Contains("schema version 99")
                .And.Message.Contains(store.FilePath));

    }

    [Test]
    public void Constructor_MissingDirectory_CreatesItAndLogsPath()
    {
        var logger = new RecordingLogger<SqliteEventStore>();
        var options = directory.Options(Path.Combine("nested", "data"));

        using var nested = new SqliteEventStore(options, logger);

        var expectedPath = Path.Combine(directory.Path, "nested", "data", SqliteStorageOptions.EventsFileName);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(File.Exists(expectedPath), Is.True);
            Assert.That(nested.FilePath, Is.EqualTo(expectedPath));
            Assert.That(logger.Entries, Has.Exactly(1).Matches<(LogLevel Level, EventId EventId, string Message)>(
                entry => entry.Level == LogLevel.Information && entry.Message.Contains(expectedPath)));
        }
    }

    [Test]
    public void Constructor_NewFile_UsesWalJournal()
    {
        Assert.That(QueryOnFile("PRAGMA journal_mode;"), Is.EqualTo("wal"));
    }

    [Test]
    public void ResolveDataDirectory_RelativePath_ResolvesAgainstCurrentDirectory()
    {
        var defaults = new SqliteStorageOptions();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(defaults.DataDirectory, Is.EqualTo("./data"));
            Assert.That(defaults.ResolveDataDirectory(), Is.EqualTo(Path.Combine(Environment.CurrentDirectory, "data")));
            Assert.That(() => new SqliteStorageOptions { DataDirectory = " " }.ResolveDataDirectory(), Throws.InvalidOperationException.With.Message.Contains("Storage:DataDirectory"));
        }
    }

    private async Task AppendHourWindowEventsAsync()
    {
        var at = (int offset) => HourStart.AddHours(offset).AddMinutes(7);
        foreach (var e in new[]
        {
            Event("w1", at(0)),
            Event("w2", at(1)),
            Event("w3", at(5), EventType.PageViewed),
            Event("w4", at(5)),
            Event("w5", at(1)),
            Event("w6", at(7)),
            Event("w7", at(10)),
        })
        {
            await store.AppendAsync([e], CancellationToken.None);
        }
    }

    private async Task<List<long>> ScanSequencesAsync()
    {
        using var connection = new SqliteConnection($"Data Source={store.FilePath};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT seq FROM events ORDER BY seq;";
        var sequences = new List<long>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            sequences.Add(reader.GetInt64(0));
        }

        return sequences;
    }

    private Task<List<LambdaEvent>> ScanAllAsync(EventType type, long afterSequence = 0) =>
        ScanAsync(type, DateTimeOffset.MinValue, DateTimeOffset.MaxValue, afterSequence, long.MaxValue);

    private async Task<List<LambdaEvent>> ScanAsync(EventType type, DateTimeOffset from, DateTimeOffset to, long after, long upTo)
    {
        var events = new List<LambdaEvent>();
        await foreach (var e in store.ScanAsync(type, from, to, after, upTo, CancellationToken.None))
        {
            events.Add(e);
        }

        return events;
    }

    private SqliteConnection OpenFile()
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = store.FilePath, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    private void ExecuteOnFile(string sql)
    {
        using var connection = OpenFile();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private string? QueryOnFile(string sql)
    {
        using var connection = OpenFile();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar() as string;
    }

    private string ExplainOnFile(string sql, params string[] parameters)
    {
        using var connection = OpenFile();
        return QueryPlans.Explain(connection, sql, parameters);
    }

    private static LambdaEvent Event(string id, DateTimeOffset occurredAt, EventType type = EventType.MediaOpened, string hub = "hub-1") => new()
    {
        Id = id,
        Type = type,
        OccurredAt = occurredAt,
        HubId = hub,
        MediaId = "media-1",
    };
}
