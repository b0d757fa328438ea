using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Common;
using LambdaStats.Modules.View.Contracts;

namespace LambdaStats.Tests.Support;

/// <summary>
/// A complete in-memory implementation of the view store port. Rows are kept serialised, as a
/// real store keeps them, so readers never share mutable state with the batch layer.
/// </summary>
internal sealed class InMemoryViewStore : IViewStore
{
    private readonly object sync = new();
    private readonly Dictionary<(string Aggregation, long Hour), Dictionary<AggregationKey, byte[]>> hours = [];
    private readonly Dictionary<(string Aggregation, long Day), Dictionary<AggregationKey, byte[]>> days = [];
    private readonly Dictionary<string, BatchFrontier> frontiers = new(StringComparer.Ordinal);
    private Func<Task>? onNextReadField;
    private Func<Task>? onNextCommitField;

    /// <summary>Ranges read by queries, for tests that check how an answer was composed.</summary>
    public List<string> Reads { get; } = [];

    /// <summary>Runs once, inside the next hourly read, before the rows are read: forces "a batch commits while a query reads".</summary>
    public Func<Task>? OnNextRead
    {
        get => onNextReadField;
        set => onNextReadField = value;
    }

    /// <summary>Runs once, inside the next commit, before the rows are written: forces "events arrive while a batch runs".</summary>
    public Func<Task>? OnNextCommit
    {
        get => onNextCommitField;
        set => onNextCommitField = value;
    }

    public Task<BatchFrontier> GetFrontierAsync(string aggregation, CancellationToken cancellationToken)
    {
        lock (sync)
        {
            return Task.FromResult(frontiers.GetValueOrDefault(aggregation, BatchFrontier.Initial));
        }
    }

    public async Task CommitAsync(AggregationDefinition aggregation, IReadOnlyList<BucketRows<UtcHour>> hourRows, IReadOnlyList<BucketRows<UtcDay>> dayRows, BatchFrontier frontier, CancellationToken cancellationToken)
    {
        if (TakeHook(ref onNextCommitField) is { } hook)
        {
            await hook();
        }

        var serialisedHours = hourRows.Select(h => (h.Bucket.Index, Serialise(h.Rows))).ToList();
        var serialisedDays = dayRows.Select(d => (d.Bucket.Index, Serialise(d.Rows))).ToList();
        lock (sync)
        {
            foreach (var (index, rows) in serialisedHours)
            {
                hours[(aggregation.ViewId, index)] = rows;
            }

            foreach (var (index, rows) in serialisedDays)
            {
                days[(aggregation.ViewId, index)] = rows;
            }

            frontiers[aggregation.ViewId] = frontier;
        }
    }

    public Task WriteHourPartAsync(AggregationDefinition aggregation, BucketRows<UtcHour> part, bool replace, CancellationToken cancellationToken)
    {
        var serialised = Serialise(part.Rows);
        lock (sync)
        {
            if (frontiers.TryGetValue(aggregation.ViewId, out var frontier) && part.Bucket < frontier.Watermark)
            {
                throw new InvalidOperationException($"Hour {part.Bucket} is before the watermark {frontier.Watermark}.");
            }

            if (replace || !hours.TryGetValue((aggregation.ViewId, part.Bucket.Index), out var stored))
            {
                hours[(aggregation.ViewId, part.Bucket.Index)] = serialised;
                return Task.CompletedTask;
            }

            var storedHubs = stored.Keys.Select(key => key[0]).ToHashSet(StringComparer.Ordinal);
            foreach (var key in serialised.Keys)
            {
                if (storedHubs.Contains(key[0]))
                {
                    throw new InvalidOperationException($"Hub {key[0]} already has rows in hour {part.Bucket}.");
                }
            }

            foreach (var (key, row) in serialised)
            {
                stored.Add(key, row);
            }
        }

        return Task.CompletedTask;
    }

    public async Task<IReadOnlyList<KeyedRow>> ReadHoursAsync(AggregationDefinition aggregation, KeyFilter filter, UtcHour from, UtcHour to, CancellationToken cancellationToken)
    {
        if (TakeHook(ref onNextReadField) is { } hook)
        {
            await hook();
        }

        lock (sync)
        {
            if (from < to)
            {
                Reads.Add($"hours {from}..{to}");
            }

            return Read(hours, aggregation, filter, from.Index, to.Index);
        }
    }

    public Task<IReadOnlyList<KeyedRow>> ReadDaysAsync(AggregationDefinition aggregation, KeyFilter filter, UtcDay from, UtcDay to, CancellationToken cancellationToken)
    {
        lock (sync)
        {
            if (from < to)
            {
                Reads.Add($"days {from}..{to}");
            }

            IReadOnlyList<KeyedRow> rows = Read(days, aggregation, filter, from.Index, to.Index);
            return Task.FromResult(rows);
        }
    }

    public Task<IReadOnlyList<UtcDay>> GetDaysWithHourlyRowsAsync(AggregationDefinition aggregation, UtcDay from, UtcDay to, CancellationToken cancellationToken)
    {
        lock (sync)
        {
            IReadOnlyList<UtcDay> result = hours
                .Where(pair => pair.Key.Aggregation == aggregation.ViewId && pair.Value.Count > 0)
                .Select(pair => new UtcHour(pair.Key.Hour).Day)
                .Where(day => day >= from && day < to)
                .Distinct()
                .Order()
                .ToList();
            return Task.FromResult(result);
        }
    }

    public Task<IReadOnlyList<BucketRows<UtcHour>>> ReadDayHoursAsync(AggregationDefinition aggregation, UtcDay day, CancellationToken cancellationToken)
    {
        lock (sync)
        {
            IReadOnlyList<BucketRows<UtcHour>> result = hours
                .Where(pair => pair.Key.Aggregation == aggregation.ViewId && new UtcHour(pair.Key.Hour).Day == day)
                .Select(pair => new BucketRows<UtcHour>(
                    new UtcHour(pair.Key.Hour),
                    pair.Value.ToDictionary(row => row.Key, row => AggregateRow.DeserializeState(aggregation, row.Value))))
                .ToList();
            return Task.FromResult(result);
        }
    }

    private static Func<Task>? TakeHook(ref Func<Task>? hook) => Interlocked.Exchange(ref hook, null);

    private static Dictionary<AggregationKey, byte[]> Serialise(IReadOnlyDictionary<AggregationKey, AggregateRow> rows) =>
        rows.ToDictionary(row => row.Key, row => row.Value.SerializeState());

    private static List<KeyedRow> Read(
        Dictionary<(string Aggregation, long Bucket), Dictionary<AggregationKey, byte[]>> buckets,
        AggregationDefinition aggregation,
        KeyFilter filter,
        long from,
        long to)
    {
        var result = new List<KeyedRow>();
        foreach (var ((name, bucket), rows) in buckets)
        {
            if (name != aggregation.ViewId || bucket < from || bucket >= to)
            {
                continue;
            }

            foreach (var (key, state) in rows)
            {
                if (filter.Matches(key))
                {
                    result.Add(new KeyedRow(key, AggregateRow.DeserializeState(aggregation, state)));
                }
            }
        }

        return result;
    }
}
