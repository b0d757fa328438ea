using System.Collections.Concurrent;
using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Common;
using LambdaStats.Modules.View.Contracts;
using Microsoft.Extensions.Logging;

namespace LambdaStats.Modules.View.Cache;

/// <summary>
/// Keeps the view buckets that queries read in memory, decoded by column per hub, in front of the
/// view store. Every write goes through <see cref="CommitAsync"/>, which drops the buckets it
/// replaces before and after the store commits. A reader therefore gets what the store contains at
/// some moment during its call, as it would from the store itself.
/// </summary>
/// <remarks>
/// A bucket read from the store enters the cache only if no commit of its view started since the
/// read began. A per-view generation, odd while a commit runs, records that. Old entries leave by least
/// recent use once their estimated size passes <see cref="ViewCacheOptions.MaxMegabytes"/>.
/// </remarks>
internal sealed partial class CachedViewStore : IViewStore, IHubBucketSource
{
    /// <summary>Prefixes stored per hub and view: enough for a few periods or series shapes in turn.</summary>
    private const int PrefixesPerHub = 4;

    private readonly IViewStore inner;
    private readonly long budgetBytes;
    private readonly ILogger logger;
    private readonly ConcurrentDictionary<string, ViewEntries> views = new(StringComparer.Ordinal);
    private readonly object evictionSync = new();
    private long accessClock;
    private long cachedBytes;

    public CachedViewStore(IViewStore inner, ViewCacheOptions options, ILogger<CachedViewStore> logger)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxMegabytes);
        this.inner = inner;
        this.logger = logger;
        budgetBytes = options.MaxMegabytes * 1024L * 1024L;
    }

    /// <summary>Estimated bytes held by cached buckets.</summary>
    public long CachedBytes => Interlocked.Read(ref cachedBytes);

    public Task<BatchFrontier> GetFrontierAsync(string aggregation, CancellationToken cancellationToken) =>
        inner.GetFrontierAsync(aggregation, cancellationToken);

    public async Task CommitAsync(
        AggregationDefinition aggregation,
        IReadOnlyList<BucketRows<UtcHour>> hours,
        IReadOnlyList<BucketRows<UtcDay>> days,
        BatchFrontier frontier,
        CancellationToken cancellationToken)
    {
        var entries = EntriesOf(aggregation.ViewId);
        lock (entries.Sync)
        {
            entries.Generation++;
            Drop(entries, hours, days);
        }

        try
        {
            await inner.CommitAsync(aggregation, hours, days, frontier, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            lock (entries.Sync)
            {
                Drop(entries, hours, days);
                entries.Generation++;
            }
        }
    }

    /// <remarks>
    /// Queries do not read an hour at or after the watermark, so the cache should hold no bucket
    /// of it. The part still drops one, as a commit does, so that no stale bucket outlives it.
    /// </remarks>
    public async Task WriteHourPartAsync(AggregationDefinition aggregation, BucketRows<UtcHour> rows, bool replace, CancellationToken cancellationToken)
    {
        var entries = EntriesOf(aggregation.ViewId);
        lock (entries.Sync)
        {
            entries.Generation++;
            Drop(entries, (BucketKind.Hour, rows.Bucket.Index));
        }

        try
        {
            await inner.WriteHourPartAsync(aggregation, rows, replace, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            lock (entries.Sync)
            {
                Drop(entries, (BucketKind.Hour, rows.Bucket.Index));
                entries.Generation++;
            }
        }
    }

    public async Task<IReadOnlyList<KeyedRow>> ReadHoursAsync(AggregationDefinition aggregation, KeyFilter filter, UtcHour from, UtcHour to, CancellationToken cancellationToken)
    {
        var rows = new List<KeyedRow>();
        for (var hour = from; hour < to; hour = hour.Next)
        {
            AddRows(aggregation, filter, await ReadAsync(aggregation, BucketKind.Hour, hour.Index, filter.HubId, cancellationToken).ConfigureAwait(false), rows);
        }

        return rows;
    }

    public async Task<IReadOnlyList<KeyedRow>> ReadDaysAsync(AggregationDefinition aggregation, KeyFilter filter, UtcDay from, UtcDay to, CancellationToken cancellationToken)
    {
        var rows = new List<KeyedRow>();
        for (var day = from; day < to; day = day.Next)
        {
            AddRows(aggregation, filter, await ReadAsync(aggregation, BucketKind.Day, day.Index, filter.HubId, cancellationToken).ConfigureAwait(false), rows);
        }

        return rows;
    }

    public Task<IReadOnlyList<UtcDay>> GetDaysWithHourlyRowsAsync(AggregationDefinition aggregation, UtcDay from, UtcDay to, CancellationToken cancellationToken) =>
        inner.GetDaysWithHourlyRowsAsync(aggregation, from, to, cancellationToken);

    public Task<IReadOnlyList<BucketRows<UtcHour>>> ReadDayHoursAsync(AggregationDefinition aggregation, UtcDay day, CancellationToken cancellationToken) =>
        inner.ReadDayHoursAsync(aggregation, day, cancellationToken);

    public HubKeyIndex IndexOf(AggregationDefinition definition, string hubId) =>
        EntriesOf(definition.ViewId).Indexes.GetOrAdd(hubId, static _ => new HubKeyIndex());

    public async ValueTask<HubBucket> ReadAsync(AggregationDefinition definition, BucketKind kind, long bucket, string hubId, CancellationToken cancellationToken)
    {
        var entries = EntriesOf(definition.ViewId);
        if (entries.Buckets.TryGetValue((kind, bucket), out var hubs) && hubs.TryGetValue(hubId, out var cached))
        {
            cached.LastUsed = Interlocked.Increment(ref accessClock);
            return cached;
        }

        var generation = Volatile.Read(ref entries.Generation);
        var filter = new KeyFilter(hubId);
        var rows = kind == BucketKind.Hour
            ? await inner.ReadHoursAsync(definition, filter, new UtcHour(bucket), new UtcHour(bucket + 1), cancellationToken).ConfigureAwait(false)
            : await inner.ReadDaysAsync(definition, filter, new UtcDay(bucket), new UtcDay(bucket + 1), cancellationToken).ConfigureAwait(false);
        var built = HubBucket.Build(entries.Kinds ??= ColumnLayout.Of(definition), IndexOf(definition, hubId), rows);
        if (budgetBytes > 0 && generation % 2 == 0)
        {
            TryKeep(entries, kind, bucket, hubId, built, generation);
        }

        return built;
    }

    public ViewPrefix? FindPrefix(AggregationDefinition definition, string hubId, IReadOnlyList<HubBucket> buckets)
    {
        if (!EntriesOf(definition.ViewId).Prefixes.TryGetValue(hubId, out var stored))
        {
            return null;
        }

        ViewPrefix? best = null;
        foreach (var prefix in stored)
        {
            if (prefix.IsPrefixOf(buckets) && (best is null || prefix.Buckets.Length > best.Buckets.Length))
            {
                best = prefix;
            }
        }

        if (best is not null)
        {
            best.LastUsed = Interlocked.Increment(ref accessClock);
        }

        return best;
    }

    public void KeepPrefix(AggregationDefinition definition, string hubId, ViewPrefix prefix)
    {
        if (budgetBytes == 0)
        {
            return;
        }

        prefix.LastUsed = Interlocked.Increment(ref accessClock);
        var entries = EntriesOf(definition.ViewId);
        lock (entries.Sync)
        {
            // The array is replaced, never changed, so readers can enumerate the one they got.
            var stored = entries.Prefixes.TryGetValue(hubId, out var current) ? current : [];
            if (stored.Length >= PrefixesPerHub)
            {
                var oldest = stored.MinBy(candidate => candidate.LastUsed)!;
                Interlocked.Add(ref cachedBytes, -oldest.ApproximateBytes);
                stored = [.. stored.Where(candidate => !ReferenceEquals(candidate, oldest))];
            }

            entries.Prefixes[hubId] = [.. stored, prefix];
            Interlocked.Add(ref cachedBytes, prefix.ApproximateBytes);
        }

        if (Interlocked.Read(ref cachedBytes) > budgetBytes)
        {
            Evict();
        }
    }

    private void TryKeep(ViewEntries entries, BucketKind kind, long bucket, string hubId, HubBucket built, long generation)
    {
        built.LastUsed = Interlocked.Increment(ref accessClock);
        lock (entries.Sync)
        {
            // A commit that started after the read began may have replaced the rows just read.
            if (entries.Generation != generation)
            {
                return;
            }

            var hubs = entries.Buckets.GetOrAdd((kind, bucket), static _ => new ConcurrentDictionary<string, HubBucket>(StringComparer.Ordinal));
            if (!hubs.TryAdd(hubId, built))
            {
                return;
            }

            Interlocked.Add(ref cachedBytes, built.ApproximateBytes);
        }

        if (Interlocked.Read(ref cachedBytes) > budgetBytes)
        {
            Evict();
        }
    }

    /// <summary>Drops the least recently used buckets until the cache is down to three quarters of its budget.</summary>
    private void Evict()
    {
        lock (evictionSync)
        {
            if (Interlocked.Read(ref cachedBytes) <= budgetBytes)
            {
                return;
            }

            var candidates = new List<(long LastUsed, ViewEntries Entries, (BucketKind, long) Bucket, string Hub, HubBucket Value)>();
            foreach (var entries in views.Values)
            {
                foreach (var (bucket, hubs) in entries.Buckets)
                {
                    foreach (var (hub, value) in hubs)
                    {
                        candidates.Add((value.LastUsed, entries, bucket, hub, value));
                    }
                }
            }

            // Prefixes go first, because each contains arrays as large as the hub's key space and a
            // query rebuilds one from the cached buckets.
            foreach (var entries in views.Values)
            {
                lock (entries.Sync)
                {
                    DropPrefixes(entries);
                }
            }

            candidates.Sort((x, y) => x.LastUsed.CompareTo(y.LastUsed));
            var target = budgetBytes * 3 / 4;
            var evicted = 0;
            foreach (var candidate in candidates)
            {
                if (Interlocked.Read(ref cachedBytes) <= target)
                {
                    break;
                }

                lock (candidate.Entries.Sync)
                {
                    if (candidate.Entries.Buckets.TryGetValue(candidate.Bucket, out var hubs)
                        && hubs.TryRemove(new KeyValuePair<string, HubBucket>(candidate.Hub, candidate.Value)))
                    {
                        Interlocked.Add(ref cachedBytes, -candidate.Value.ApproximateBytes);
                        evicted++;
                    }
                }
            }

            Log.Evicted(logger, evicted, Interlocked.Read(ref cachedBytes) / (1024 * 1024), budgetBytes / (1024 * 1024));
        }
    }

    private void Drop(ViewEntries entries, IReadOnlyList<BucketRows<UtcHour>> hours, IReadOnlyList<BucketRows<UtcDay>> days)
    {
        foreach (var hour in hours)
        {
            Drop(entries, (BucketKind.Hour, hour.Bucket.Index));
        }

        foreach (var day in days)
        {
            Drop(entries, (BucketKind.Day, day.Bucket.Index));
        }
    }

    private void DropPrefixes(ViewEntries entries)
    {
        foreach (var stored in entries.Prefixes.Values)
        {
            foreach (var prefix in stored)
            {
                Interlocked.Add(ref cachedBytes, -prefix.ApproximateBytes);
            }
        }

        entries.Prefixes.Clear();
    }

    private void Drop(ViewEntries entries, (BucketKind, long) bucket)
    {
        if (!entries.Buckets.TryRemove(bucket, out var hubs))
        {
            return;
        }

        foreach (var (hub, value) in hubs)
        {
            Interlocked.Add(ref cachedBytes, -value.ApproximateBytes);

            // A prefix over a replaced bucket no longer matches any query, since a query gets the
            // new bucket object. Dropping it frees the memory; prefixes over other buckets stay,
            // so the next query after an hourly commit only adds the new hour.
            if (entries.Prefixes.TryGetValue(hub, out var stored) && stored.Any(prefix => prefix.Contains(value)))
            {
                foreach (var prefix in stored.Where(prefix => prefix.Contains(value)))
                {
                    Interlocked.Add(ref cachedBytes, -prefix.ApproximateBytes);
                }

                entries.Prefixes[hub] = [.. stored.Where(prefix => !prefix.Contains(value))];
            }
        }
    }

    private static void AddRows(AggregationDefinition aggregation, KeyFilter filter, HubBucket bucket, List<KeyedRow> rows)
    {
        var keys = bucket.Index.Keys;
        for (var position = 0; position < bucket.Ids.Length; position++)
        {
            var key = keys[bucket.Ids[position]];
            if (filter.Matches(key))
            {
                rows.Add(new KeyedRow(key, bucket.CreateRow(aggregation, position)));
            }
        }
    }

    private ViewEntries EntriesOf(string viewId) => views.GetOrAdd(viewId, static _ => new ViewEntries());

    /// <summary>The cached buckets and key ids of one view.</summary>
    private sealed class ViewEntries
    {
        public readonly object Sync = new();
        public readonly ConcurrentDictionary<(BucketKind Kind, long Bucket), ConcurrentDictionary<string, HubBucket>> Buckets = new();
        public readonly ConcurrentDictionary<string, HubKeyIndex> Indexes = new(StringComparer.Ordinal);

        /// <summary>The last prefixes per hub, at most <see cref="PrefixesPerHub"/>; changed only under <see cref="Sync"/>.</summary>
        public readonly ConcurrentDictionary<string, ViewPrefix[]> Prefixes = new(StringComparer.Ordinal);

        /// <summary>Incremented when a commit starts and when it ends: odd while one runs.</summary>
        public long Generation;

        public ColumnKind[]? Kinds;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4101, Level = LogLevel.Debug, Message = "View cache evicted {Buckets} buckets; it now holds about {HeldMiB} MiB of its {BudgetMiB} MiB")]
        public static partial void Evicted(ILogger logger, int buckets, long heldMiB, long budgetMiB);
    }
}
