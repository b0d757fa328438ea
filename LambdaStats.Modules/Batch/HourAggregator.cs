using System.Threading.Channels;
using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Aggregation.Columns;
using LambdaStats.Modules.Common;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.View.Contracts;

namespace LambdaStats.Modules.Batch;

/// <summary>
/// The computation of one hour's exact view from the event store, into the columns that the
/// speed layer uses. They contain the accumulators' states bit for bit.
/// </summary>
internal static class HourAggregator
{
    /// <summary>Events handed from the read to an aggregating thread at a time.</summary>
    private const int ChunkSize = 1024;

    /// <summary>Chunks read ahead of each aggregating thread, which bounds the events in flight.</summary>
    private const int ChunksReadAhead = 8;

    /// <summary>Threads that add events to rows, one per core of a two-core machine.</summary>
    private const int AggregatingThreads = 2;

    /// <summary>
    /// Computes the hour for several aggregations from one read of the hour's events, and returns
    /// their rows in the order of <paramref name="definitions"/>, for the hubs of
    /// <paramref name="slice"/> only: the store skips the events of other hubs.
    /// </summary>
    /// <remarks>
    /// The read runs on its own thread and hands the events over in chunks to
    /// <see cref="AggregatingThreads"/> threads, each of which adds the events of some hubs. Every
    /// key starts with its hub, so a key's events all reach one thread, in the order of the read:
    /// its sums add in sequence order, as in the speed layer.
    /// </remarks>
    public static async Task<BucketRows<UtcHour>[]> ComputeAsync(
        IEventStore store,
        IReadOnlyList<AggregationDefinition> definitions,
        UtcHour hour,
        long upToSequence,
        HubSlice slice,
        CancellationToken cancellationToken)
    {
        var byType = new int[Enum.GetValues<EventType>().Max(type => (int)type) + 1][];
        for (var i = 0; i < definitions.Count; i++)
        {
            var type = (int)definitions[i].EventType;
            byType[type] = [.. byType[type] ?? [], i];
        }

        var types = definitions.Select(definition => definition.EventType).Distinct().ToArray();
        var channels = new Channel<LambdaEvent[]>[AggregatingThreads];
        for (var p = 0; p < channels.Length; p++)
        {
            channels[p] = Channel.CreateBounded<LambdaEvent[]>(new BoundedChannelOptions(ChunksReadAhead) { SingleReader = true, SingleWriter = true });
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var scan = slice.Count == 1
            ? store.ScanHourAsync(hour, types, FieldsRead(definitions), upToSequence, stop.Token)
            : store.ScanHourAsync(hour, types, FieldsRead(definitions), upToSequence, slice.Contains, stop.Token);
        var read = Task.Run(() => ReadAsync(scan, slice, channels, stop.Token), CancellationToken.None);
        var parts = channels.Select(channel => Task.Run(
            async () =>
            {
                try
                {
                    return await AddAsync(definitions, byType, channel.Reader, stop.Token).ConfigureAwait(false);
                }
                catch
                {
                    // The read would wait forever on this thread's full channel.
                    await stop.CancelAsync().ConfigureAwait(false);
                    throw;
                }
            },
            CancellationToken.None)).ToArray();
        try
        {
            await Task.WhenAll(parts.Append(read)).ConfigureAwait(false);
        }
        catch
        {
            // Whichever thread failed first, no thread of this computation may outlive it.
            await stop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(parts.Append(read)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            cancellationToken.ThrowIfCancellationRequested();
            throw;
        }

        var rows = new BucketRows<UtcHour>[definitions.Count];
        for (var i = 0; i < rows.Length; i++)
        {
            rows[i] = new BucketRows<UtcHour>(hour, new HubPartitionedRows(slice, parts.Select(part => new HourRowsDictionary(part.Result[i])).ToArray()));
        }

        return rows;
    }

    /// <summary>
    /// Hands each event of <paramref name="scan"/>, whose hub is in <paramref name="slice"/>, to the
    /// channel of its hub's part, then completes every channel, with the error if the read failed.
    /// </summary>
    private static async Task ReadAsync(IAsyncEnumerable<LambdaEvent> scan, HubSlice slice, Channel<LambdaEvent[]>[] channels, CancellationToken cancellationToken)
    {
        try
        {
            var chunks = new LambdaEvent[channels.Length][];
            var counts = new int[channels.Length];
            for (var p = 0; p < chunks.Length; p++)
            {
                chunks[p] = new LambdaEvent[ChunkSize];
            }

            await foreach (var e in scan.ConfigureAwait(false))
            {
                var p = slice.PartOf(e.HubId, channels.Length);
                chunks[p][counts[p]++] = e;
                if (counts[p] == ChunkSize)
                {
                    await channels[p].Writer.WriteAsync(chunks[p], cancellationToken).ConfigureAwait(false);
                    chunks[p] = new LambdaEvent[ChunkSize];
                    counts[p] = 0;
                }
            }

            for (var p = 0; p < chunks.Length; p++)
            {
                if (counts[p] > 0)
                {
                    await channels[p].Writer.WriteAsync(chunks[p][..counts[p]], cancellationToken).ConfigureAwait(false);
                }

                channels[p].Writer.Complete();
            }
        }
        catch (Exception exception)
        {
            foreach (var channel in channels)
            {
                channel.Writer.TryComplete(exception);
            }

            throw;
        }
    }

    /// <summary>
    /// Adds every event of <paramref name="chunks"/> to the rows of the definitions of its type,
    /// and returns the rows in definition order.
    /// </summary>
    /// <remarks>
    /// The rows are the speed layer's columns, with no scratch file: numbers in arrays and
    /// numbered pairs, where an <see cref="AggregateRow"/> per key keeps accumulator objects. On
    /// an hour shaped like the soak's, the run's peak is about a third of what it was with
    /// <see cref="AggregateRow"/>s. The rows of every aggregation of the run stay in memory until
    /// their commit, beside the speed layer's buffers of the same hour, so they set the run's
    /// peak. The columns of one part share one string pool, so a value read from many events is
    /// kept once.
    /// </remarks>
    private static async Task<HourRows[]> AddAsync(
        IReadOnlyList<AggregationDefinition> definitions,
        int[]?[] byType,
        ChannelReader<LambdaEvent[]> chunks,
        CancellationToken cancellationToken)
    {
        var pool = new RowStringPool();
        var rows = new HourRows[definitions.Count];
        for (var i = 0; i < rows.Length; i++)
        {
            rows[i] = new HourRows(definitions[i], pool);
        }

        await foreach (var chunk in chunks.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            foreach (var e in chunk)
            {
                foreach (var i in byType[(int)e.Type] ?? [])
                {
                    rows[i].Add(e);
                }
            }
        }

        return rows;
    }

    /// <summary>The event fields that the keys and outputs of <paramref name="definitions"/> read.</summary>
    internal static EventField[] FieldsRead(IEnumerable<AggregationDefinition> definitions) =>
        definitions
            .SelectMany(definition => definition.Key.Concat(definition.Outputs.SelectMany(output => new[] { output.Field, output.GroupBy }.OfType<EventField>())))
            .Distinct()
            .Order()
            .ToArray();

    /// <summary>Merges hourly rows into the rows of their day.</summary>
    public static BucketRows<UtcDay> MergeDay(AggregationDefinition definition, UtcDay day, IEnumerable<BucketRows<UtcHour>> hours)
    {
        var rows = new Dictionary<AggregationKey, AggregateRow>();
        foreach (var hour in hours)
        {
            foreach (var (key, row) in hour.Rows)
            {
                if (rows.TryGetValue(key, out var merged))
                {
                    merged.Merge(row);
                }
                else
                {
                    rows.Add(key, row.Clone());
                }
            }
        }

        return new BucketRows<UtcDay>(day, rows);
    }
}
