using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Aggregation.Columns;
using LambdaStats.Modules.Common;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.Speed.Contracts;
using LambdaStats.Modules.View.Contracts;

namespace LambdaStats.Modules.Speed;

/// <summary>
/// The in-memory speed state of one aggregation: buffers by event hour, split into segments at
/// each batch start, plus the batch frontier they complement.
/// </summary>
/// <remarks>
/// The last segment is open and receives every new event. <see cref="Seal"/> closes it at the
/// store sequence the batch is about to read up to; since sealing and ingestion share the
/// ingestion gate, a sealed segment holds exactly the events with a sequence at or below its seal.
/// <see cref="Complete"/> then releases, from the segments sealed at or below the new frontier's
/// sequence, the hours before the new watermark: the views now hold those events. Hours the batch
/// has not covered stay, however far behind it is. Every member takes the same lock.
/// </remarks>
internal sealed class SpeedBuffer
{
    private readonly object sync = new();
    private readonly AggregationDefinition definition;
    private readonly DivergenceCheck? divergenceCheck;
    private readonly RowStringPool strings;
    private readonly PairScratch? scratch;
    private readonly List<Segment> segments;
    private BatchFrontier frontier = BatchFrontier.Initial;
    private long generation;
    private bool rewriteInProgress;
    private TaskCompletionSource rewriteEnded = CompletedSource();

    /// <param name="scratch">Where the hours move the pairs of their projectionAdd and exact distinctCount outputs past a budget. Null keeps them in memory.</param>
    public SpeedBuffer(AggregationDefinition definition, DivergenceCheck? divergenceCheck = null, PairScratch? scratch = null)
    {
        this.definition = definition;
        this.divergenceCheck = divergenceCheck;
        this.scratch = scratch;
        strings = new RowStringPool();
        segments = [NewSegment()];
    }

    public AggregationDefinition Definition => definition;

    public BatchFrontier Frontier
    {
        get
        {
            lock (sync)
            {
                return frontier;
            }
        }
    }

    /// <summary>Adds the events of this aggregation's type to the open segment, and skips the others.</summary>
    /// <remarks>Allocates nothing per event once the event's hour and key have a row.</remarks>
    public void Add(IReadOnlyList<LambdaEvent> events)
    {
        lock (sync)
        {
            var open = segments[^1];
            switch (events)
            {
                case List<LambdaEvent> list:
                    AddAll(open, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(list));
                    break;
                case LambdaEvent[] array:
                    AddAll(open, array);
                    break;
                default:
                    for (var i = 0; i < events.Count; i++)
                    {
                        AddIfOfType(open, events[i]);
                    }

                    break;
            }
        }
    }

    /// <summary>Replaces the whole state: used once at startup, before ingestion and queries begin.</summary>
    public void Reset(BatchFrontier storedFrontier, IEnumerable<LambdaEvent> events)
    {
        lock (sync)
        {
            foreach (var segment in segments)
            {
                segment.DeleteScratchFiles();
            }

            segments.Clear();
            strings.Clear();
            var open = NewSegment();
            foreach (var e in events)
            {
                AddIfOfType(open, e);
            }

            segments.Add(open);
            frontier = storedFrontier;
        }
    }

    public void Seal(long sequence, bool rewritesFinalViews)
    {
        lock (sync)
        {
            segments[^1].SealedAt = sequence;
            segments.Add(NewSegment());
            if (rewritesFinalViews && !rewriteInProgress)
            {
                rewriteInProgress = true;
                rewriteEnded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                generation++;
            }
        }
    }

    /// <param name="computedHours">Hours the batch wrote; those at or after the previous watermark are compared with the buffers first.</param>
    public void Complete(BatchFrontier newFrontier, IReadOnlyList<BucketRows<UtcHour>>? computedHours = null)
    {
        lock (sync)
        {
            if (divergenceCheck is not null && definition.SpeedLayer && computedHours is not null)
            {
                CompareWithBatch(newFrontier, computedHours);
            }

            frontier = newFrontier;
            foreach (var segment in segments)
            {
                if (segment.SealedAt is { } sealedAt && sealedAt <= newFrontier.Sequence)
                {
                    segment.ReleaseBefore(newFrontier.Watermark);
                }
            }

            segments.RemoveAll(segment => segment.SealedAt is not null && segment.IsEmpty);
            EndRewrite();
        }
    }

    /// <summary>
    /// The buffers hold every event of an hour at or after the previous watermark, so for such an
    /// hour the rows sealed at or below the run's sequence must equal the batch's rows. The check
    /// copies those rows one hub at a time, next to the batch's rows.
    /// </summary>
    private void CompareWithBatch(BatchFrontier newFrontier, IReadOnlyList<BucketRows<UtcHour>> computedHours)
    {
        var covered = segments.Where(segment => segment.SealedAt is { } sealedAt && sealedAt <= newFrontier.Sequence).ToArray();
        foreach (var computed in computedHours)
        {
            if (computed.Bucket < frontier.Watermark || computed.Bucket >= newFrontier.Watermark)
            {
                continue;
            }

            var hour = computed.Bucket;
            divergenceCheck!.Compare(definition, hour, RowsOf(covered, hour), computed.Rows);
            UnmapScratchFiles(covered, hour);
        }
    }

    /// <summary>
    /// Compares the rows of the hubs of one slice of a new hour, which a sliced batch run wrote
    /// before its commit, with the rows sealed at or below the run's sequence. The rest of the
    /// hour is compared with the other slices.
    /// </summary>
    /// <param name="containsHub">Whether a hub belongs to the slice.</param>
    public void CompareSlice(UtcHour hour, long sequence, Func<string, bool> containsHub, IReadOnlyDictionary<AggregationKey, AggregateRow> batchRows)
    {
        lock (sync)
        {
            if (divergenceCheck is null || !definition.SpeedLayer || hour < frontier.Watermark)
            {
                return;
            }

            var covered = segments.Where(segment => segment.SealedAt is { } sealedAt && sealedAt <= sequence).ToArray();
            divergenceCheck.Compare(definition, hour, RowsOf(covered, hour), batchRows, containsHub);
            UnmapScratchFiles(covered, hour);
        }
    }

    /// <summary>
    /// Unmaps the scratch files of the hour after the check read its rows. A check reads every
    /// row, so without it the whole of each file stays in the process's resident set until the
    /// hour is released.
    /// </summary>
    private static void UnmapScratchFiles(Segment[] covered, UtcHour hour)
    {
        foreach (var segment in covered)
        {
            segment.UnmapScratchFiles(hour);
        }
    }

    private static SegmentedHourRows RowsOf(Segment[] covered, UtcHour hour) => new(
        covered.Select(segment => (SegmentedHourRows.MergeInto)((filter, destination) => segment.MergeHourInto(hour, filter, destination))).ToArray(),
        covered.Select(segment => (Func<string[]>)(() => segment.CopyHubs(hour))).ToArray());

    /// <summary>Ends a run that stopped before committing: nothing is released, the next run seals again.</summary>
    public void Fail()
    {
        lock (sync)
        {
            EndRewrite();
        }
    }

    public void SetDailyFrontier(BatchFrontier newFrontier)
    {
        lock (sync)
        {
            frontier = frontier with { DailyWatermark = newFrontier.DailyWatermark };
        }
    }

    public SpeedSnapshot TakeSnapshot(KeyFilter filter, UtcHour from, UtcHour to)
    {
        lock (sync)
        {
            var rows = new List<HourlyRow>();
            var bounds = new Dictionary<UtcHour, OccurrenceBounds>();
            foreach (var segment in segments)
            {
                segment.CopyRows(filter, from, to, rows, bounds);
            }

            return new SpeedSnapshot(definition.Name, frontier, generation, rewriteInProgress, rows, bounds);
        }
    }

    public bool IsStillValid(SpeedSnapshot snapshot)
    {
        lock (sync)
        {
            return generation == snapshot.Generation && !rewriteInProgress;
        }
    }

    public Task WaitForRewriteAsync(CancellationToken cancellationToken)
    {
        Task ended;
        lock (sync)
        {
            ended = rewriteEnded.Task;
        }

        return ended.WaitAsync(cancellationToken);
    }

    public IReadOnlyList<UtcHour> GetHeldHours()
    {
        lock (sync)
        {
            return segments.SelectMany(segment => segment.Hours).Distinct().Order().ToArray();
        }
    }

    /// <summary>Number of distinct strings (key values, projectionAdd group names and exact distinctCount values) the buffer keeps for its rows; for diagnostics and tests.</summary>
    internal int PooledStringCount
    {
        get
        {
            lock (sync)
            {
                return strings.Count;
            }
        }
    }

    /// <summary>Segments from oldest to open, with the seal and the hours each holds; for diagnostics and tests.</summary>
    internal IReadOnlyList<(long? SealedAt, IReadOnlyList<UtcHour> Hours)> DescribeSegments()
    {
        lock (sync)
        {
            return segments.Select(segment => (segment.SealedAt, segment.DescribeHours())).ToArray();
        }
    }

    private void AddAll(Segment open, ReadOnlySpan<LambdaEvent> events)
    {
        foreach (var e in events)
        {
            AddIfOfType(open, e);
        }
    }

    private void AddIfOfType(Segment open, LambdaEvent e)
    {
        if (e.Type == definition.EventType)
        {
            open.Add(e);
        }
    }

    private Segment NewSegment() => new(definition, strings, scratch);

    private void EndRewrite()
    {
        if (rewriteInProgress)
        {
            rewriteInProgress = false;
            generation++;
            rewriteEnded.TrySetResult();
        }
    }

    private static TaskCompletionSource CompletedSource()
    {
        var source = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        source.SetResult();
        return source;
    }

    /// <remarks>The segments of a buffer share its string pool, so each key value is kept once.</remarks>
    private sealed class Segment(AggregationDefinition definition, RowStringPool strings, PairScratch? scratch)
    {
        private readonly Dictionary<UtcHour, HourBuffer> hours = [];

        // The buffer of the hour that received the last event, and that hour's range of UTC
        // ticks. Consecutive events mostly share an hour, so most events skip the hour lookup.
        private HourBuffer? lastBuffer;
        private long lastHourStartTicks;
        private long lastHourEndTicks;

        /// <summary>Highest store sequence this segment can hold; null while it is open.</summary>
        public long? SealedAt { get; set; }

        public bool IsEmpty => hours.Count == 0;

        public IEnumerable<UtcHour> Hours => hours.Keys;

        public void Add(LambdaEvent e)
        {
            var ticks = e.OccurredAt.UtcTicks;
            var buffer = lastBuffer;
            if (buffer is null || ticks < lastHourStartTicks || ticks >= lastHourEndTicks)
            {
                var hour = UtcHour.Containing(e.OccurredAt);
                if (!hours.TryGetValue(hour, out buffer))
                {
                    buffer = new HourBuffer(new HourRows(definition, strings, scratch), e.OccurredAt);
                    hours.Add(hour, buffer);
                }

                lastBuffer = buffer;
                lastHourStartTicks = hour.Index * TimeSpan.TicksPerHour;
                lastHourEndTicks = lastHourStartTicks + TimeSpan.TicksPerHour;
            }

            buffer.Add(e, ticks);
        }

        public void ReleaseBefore(UtcHour watermark)
        {
            foreach (var hour in hours.Keys.Where(hour => hour < watermark).ToList())
            {
                hours[hour].Rows.Release();
                hours.Remove(hour);
            }

            lastBuffer = null;
        }

        /// <summary>Deletes the scratch files of every hour, for a buffer that starts again empty. The pool is cleared separately.</summary>
        public void DeleteScratchFiles()
        {
            foreach (var buffer in hours.Values)
            {
                buffer.Rows.DeleteScratchFiles();
            }
        }

        public void CopyRows(KeyFilter filter, UtcHour from, UtcHour to, List<HourlyRow> destination, Dictionary<UtcHour, OccurrenceBounds> bounds)
        {
            var copies = new List<KeyValuePair<AggregationKey, AggregateRow>>();
            foreach (var (hour, buffer) in hours)
            {
                if (hour < from || hour >= to)
                {
                    continue;
                }

                bounds[hour] = bounds.TryGetValue(hour, out var known) ? known.Union(buffer.Bounds) : buffer.Bounds;
                copies.Clear();
                buffer.Rows.CopyRows(filter, copies);
                foreach (var (key, row) in copies)
                {
                    destination.Add(new HourlyRow(hour, key, row));
                }
            }
        }

        public IReadOnlyList<UtcHour> DescribeHours() => hours.Keys.Order().ToArray();

        /// <summary>Adds copies of this segment's rows of <paramref name="hour"/> that match <paramref name="filter"/>, or of all of them when it is null, merging a key already in <paramref name="destination"/>.</summary>
        /// <returns>The rows copied, and the rows this segment holds for the hour.</returns>
        public void UnmapScratchFiles(UtcHour hour)
        {
            if (hours.TryGetValue(hour, out var buffer))
            {
                buffer.Rows.UnmapScratchFiles();
            }
        }

        /// <summary>Returns the hubs of the keys of <paramref name="hour"/> in this segment.</summary>
        public string[] CopyHubs(UtcHour hour) => hours.TryGetValue(hour, out var buffer) ? buffer.Rows.CopyHubs() : [];

        public (int Copied, int HourRowCount) MergeHourInto(UtcHour hour, KeyFilter? filter, Dictionary<AggregationKey, AggregateRow> destination)
        {
            if (!hours.TryGetValue(hour, out var buffer))
            {
                return (0, 0);
            }

            var copies = new List<KeyValuePair<AggregationKey, AggregateRow>>();
            buffer.Rows.CopyRows(filter, copies);
            foreach (var (key, copy) in copies)
            {
                if (destination.TryGetValue(key, out var merged))
                {
                    merged.Merge(copy);
                }
                else
                {
                    destination.Add(key, copy);
                }
            }

            return (copies.Count, buffer.Rows.Count);
        }
    }

    /// <summary>The rows of one hour, and the earliest and latest occurrence buffered in it.</summary>
    private sealed class HourBuffer(HourRows rows, DateTimeOffset firstOccurrence)
    {
        // Bounds in UTC ticks, so the per-event check compares two longs.
        private long earliestTicks = firstOccurrence.UtcTicks;
        private long latestTicks = firstOccurrence.UtcTicks;

        public HourRows Rows { get; } = rows;

        public OccurrenceBounds Bounds { get; private set; } = new(firstOccurrence, firstOccurrence);

        /// <param name="ticks">The UTC ticks of <paramref name="e"/>'s occurrence.</param>
        public void Add(LambdaEvent e, long ticks)
        {
            if (ticks < earliestTicks || ticks > latestTicks)
            {
                Bounds = Bounds.Union(new OccurrenceBounds(e.OccurredAt, e.OccurredAt));
                earliestTicks = Bounds.Earliest.UtcTicks;
                latestTicks = Bounds.Latest.UtcTicks;
            }

            Rows.Add(e);
        }
    }
}
