using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Common;
using LambdaStats.Modules.View.Cache;
using LambdaStats.Modules.View.Contracts;
using LambdaStats.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using static LambdaStats.Tests.View.ViewCacheTestSupport;

namespace LambdaStats.Tests.View;

/// <summary>
/// The view cache returns what the store behind it would: it reads a bucket once, drops what a
/// commit replaces, never keeps rows that a commit replaced during their read, and stays inside
/// its budget.
/// </summary>
[TestFixture]
public sealed class CachedViewStoreTests
{
    private static readonly UtcHour Hour = UtcHour.Containing(Noon);
    private static readonly AggregationDefinition Definition = CountAndExists;

    [Test]
    public async Task RepeatedRead_ReadsStoreOnce()
    {
        var store = new InMemoryViewStore();
        var cache = Create(store, 16);
        await CommitAsync(cache, Hour, Rows(("m1", 3), ("m2", 5)));

        var first = await cache.ReadHoursAsync(Definition, new KeyFilter("h1"), Hour, Hour.Next, CancellationToken.None);
        var second = await cache.ReadHoursAsync(Definition, new KeyFilter("h1"), Hour, Hour.Next, CancellationToken.None);

        Assert.That(store.Reads, Has.Count.EqualTo(1));
        Assert.That(Describe(second), Is.EqualTo(Describe(first)));
        Assert.That(Describe(second), Is.EqualTo(new[] { "m1=3", "m2=5" }));
    }

    [Test]
    public async Task CallerChangesRow_CacheUnchanged()
    {
        var cache = Create(new InMemoryViewStore(), 16);
        await CommitAsync(cache, Hour, Rows(("m1", 3)));

        var first = await cache.ReadHoursAsync(Definition, new KeyFilter("h1"), Hour, Hour.Next, CancellationToken.None);
        first[0].Row.Merge(first[0].Row.Clone());
        var second = await cache.ReadHoursAsync(Definition, new KeyFilter("h1"), Hour, Hour.Next, CancellationToken.None);

        Assert.That(Describe(second), Is.EqualTo(new[] { "m1=3" }));
    }

    [Test]
    public async Task KeyCondition_FiltersRows()
    {
        var cache = Create(new InMemoryViewStore(), 16);
        await CommitAsync(cache, Hour, Rows(("m1", 3), ("m2", 5)));

        var rows = await cache.ReadHoursAsync(Definition, new KeyFilter("h1", [new KeyCondition(1, "m2")]), Hour, Hour.Next, CancellationToken.None);

        Assert.That(Describe(rows), Is.EqualTo(new[] { "m2=5" }));
    }

    [Test]
    public async Task Commit_ReplacesCachedHour()
    {
        var store = new InMemoryViewStore();
        var cache = Create(store, 16);
        await CommitAsync(cache, Hour, Rows(("m1", 3)));
        await cache.ReadHoursAsync(Definition, new KeyFilter("h1"), Hour, Hour.Next, CancellationToken.None);

        await CommitAsync(cache, Hour, Rows(("m1", 4), ("m9", 1)));
        var rows = await cache.ReadHoursAsync(Definition, new KeyFilter("h1"), Hour, Hour.Next, CancellationToken.None);

        Assert.That(Describe(rows), Is.EqualTo(new[] { "m1=4", "m9=1" }));
    }

    [Test]
    public async Task CommitDuringRead_RowsNotKept()
    {
        var store = new AfterReadHook(new InMemoryViewStore());
        var cache = Create(store, 16);
        await CommitAsync(cache, Hour, Rows(("m1", 3)));

        // The store returns the old rows, then a batch replaces them before the cache could keep them.
        store.Hook = () => CommitAsync(cache, Hour, Rows(("m1", 4)));
        var during = await cache.ReadHoursAsync(Definition, new KeyFilter("h1"), Hour, Hour.Next, CancellationToken.None);
        var after = await cache.ReadHoursAsync(Definition, new KeyFilter("h1"), Hour, Hour.Next, CancellationToken.None);

        Assert.That(Describe(during), Is.EqualTo(new[] { "m1=3" }), "the read that overlapped the commit");
        Assert.That(Describe(after), Is.EqualTo(new[] { "m1=4" }), "the read after the commit");
    }

    [Test]
    public async Task DailyCommit_ReplacesCachedDay()
    {
        var store = new InMemoryViewStore();
        var cache = Create(store, 16);
        var day = Hour.Day;
        await cache.CommitAsync(Definition, [], [new BucketRows<UtcDay>(day, Rows(("m1", 2)))], BatchFrontier.Initial, CancellationToken.None);
        var first = await cache.ReadDaysAsync(Definition, new KeyFilter("h1"), day, day.Next, CancellationToken.None);
        await cache.CommitAsync(Definition, [], [new BucketRows<UtcDay>(day, Rows(("m1", 6)))], BatchFrontier.Initial, CancellationToken.None);
        var second = await cache.ReadDaysAsync(Definition, new KeyFilter("h1"), day, day.Next, CancellationToken.None);

        Assert.That(Describe(first), Is.EqualTo(new[] { "m1=2" }));
        Assert.That(Describe(second), Is.EqualTo(new[] { "m1=6" }));
    }

    [Test]
    public async Task Budget_EvictsLeastRecentlyUsed()
    {
        var store = new InMemoryViewStore();
        var cache = Create(store, 1);

        // Each hour has 20,000 keys, about 0.26 MB by the cache's estimate: four hours pass 1 MiB.
        var big = Rows(Enumerable.Range(0, 20_000).Select(i => ($"m{i}", 1L)).ToArray());
        for (var i = 0; i < 6; i++)
        {
            await CommitAsync(cache, Hour.AddHours(i), big);
        }

        for (var i = 0; i < 6; i++)
        {
            await cache.ReadHoursAsync(Definition, new KeyFilter("h1"), Hour.AddHours(i), Hour.AddHours(i + 1), CancellationToken.None);
        }

        store.Reads.Clear();
        await cache.ReadHoursAsync(Definition, new KeyFilter("h1"), Hour.AddHours(5), Hour.AddHours(6), CancellationToken.None);
        var recentStayed = store.Reads.Count == 0;
        await cache.ReadHoursAsync(Definition, new KeyFilter("h1"), Hour, Hour.Next, CancellationToken.None);
        var oldestLeft = store.Reads.Count == 1;

        Assert.That(cache.CachedBytes, Is.LessThanOrEqualTo(1024 * 1024));
        Assert.That(recentStayed, Is.True, "the most recently read hour is still cached");
        Assert.That(oldestLeft, Is.True, "the least recently read hour was evicted and is read again");
    }

    [Test]
    public async Task ZeroBudget_ReadsStoreEachTime()
    {
        var store = new InMemoryViewStore();
        var cache = Create(store, 0);
        await CommitAsync(cache, Hour, Rows(("m1", 3)));

        await cache.ReadHoursAsync(Definition, new KeyFilter("h1"), Hour, Hour.Next, CancellationToken.None);
        await cache.ReadHoursAsync(Definition, new KeyFilter("h1"), Hour, Hour.Next, CancellationToken.None);

        Assert.That(store.Reads, Has.Count.EqualTo(2));
        Assert.That(cache.CachedBytes, Is.Zero);
    }

    [Test]
    public async Task Commit_KeepsPrefixesOfOtherBuckets()
    {
        var cache = Create(new InMemoryViewStore(), 16);
        await CommitAsync(cache, Hour, Rows(("m1", 3)));
        var first = await cache.ReadAsync(Definition, BucketKind.Hour, Hour.Index, "h1", CancellationToken.None);
        var answer = new ColumnarAnswer(Definition, ColumnLayout.Of(Definition), cache.IndexOf(Definition, "h1"));
        cache.KeepPrefix(Definition, "h1", answer.AddViews([first], null)!);

        // The next hour is committed: a query over both hours still starts from the prefix.
        await CommitAsync(cache, Hour.Next, Rows(("m2", 1)));
        var firstAgain = await cache.ReadAsync(Definition, BucketKind.Hour, Hour.Index, "h1", CancellationToken.None);
        var second = await cache.ReadAsync(Definition, BucketKind.Hour, Hour.Next.Index, "h1", CancellationToken.None);
        var extended = cache.FindPrefix(Definition, "h1", [firstAgain, second]);

        // The first hour is rewritten: its prefix goes, and the new bucket matches nothing.
        await CommitAsync(cache, Hour, Rows(("m1", 4)));
        var rewritten = await cache.ReadAsync(Definition, BucketKind.Hour, Hour.Index, "h1", CancellationToken.None);
        var afterRewrite = cache.FindPrefix(Definition, "h1", [rewritten, second]);
        var bytesWithoutPrefix = cache.CachedBytes;

        Assert.That(extended, Is.Not.Null, "prefix found after a commit of another hour");
        Assert.That(afterRewrite, Is.Null, "prefix gone after a commit of its hour");
        Assert.That(bytesWithoutPrefix, Is.EqualTo(second.ApproximateBytes + rewritten.ApproximateBytes), "only the two cached hours are counted");
    }

    private static CachedViewStore Create(IViewStore store, int megabytes) =>
        new(store, new ViewCacheOptions { MaxMegabytes = megabytes }, NullLogger<CachedViewStore>.Instance);

    private static Task CommitAsync(IViewStore store, UtcHour hour, IReadOnlyDictionary<AggregationKey, AggregateRow> rows) =>
        store.CommitAsync(Definition, [new BucketRows<UtcHour>(hour, rows)], [], BatchFrontier.Initial, CancellationToken.None);

    /// <summary>Rows of hub h1 with the given media and counts.</summary>
    private static Dictionary<AggregationKey, AggregateRow> Rows(params (string Media, long Count)[] rows)
    {
        var result = new Dictionary<AggregationKey, AggregateRow>();
        foreach (var (media, count) in rows)
        {
            var row = Definition.CreateRow();
            for (var i = 0; i < count; i++)
            {
                row.Add(new LambdaStats.Modules.Events.Contracts.LambdaEvent { Id = $"{media}-{i}", Type = Definition.EventType, OccurredAt = Noon, HubId = "h1", MediaId = media });
            }

            result.Add(new AggregationKey(["h1", media]), row);
        }

        return result;
    }

    private static string[] Describe(IReadOnlyList<KeyedRow> rows) =>
        rows.Select(row => $"{row.Key[1]}={((CountAccumulator)row.Row.Outputs[0]).Value}").Order(StringComparer.Ordinal).ToArray();

    /// <summary>A view store that runs a hook after its hourly read has taken the rows, before returning them.</summary>
    private sealed class AfterReadHook(IViewStore inner) : DelegatingViewStore(inner)
    {
        private Func<Task>? hook;

        public Func<Task>? Hook
        {
            get => hook;
            set => hook = value;
        }

        public override async Task<IReadOnlyList<KeyedRow>> ReadHoursAsync(AggregationDefinition aggregation, KeyFilter filter, UtcHour from, UtcHour to, CancellationToken cancellationToken)
        {
            var rows = await base.ReadHoursAsync(aggregation, filter, from, to, cancellationToken);
            if (Interlocked.Exchange(ref hook, null) is { } once)
            {
                await once();
            }

            return rows;
        }
    }
}
