using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Batch.Contracts;
using LambdaStats.Modules.Common;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.View.Contracts;
using Mediator;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LambdaStats.Modules.Batch;

/// <summary>
/// Runs the hourly catch-up and the daily views, one run at a time in this process.
/// </summary>
/// <remarks>
/// Order of one hourly run, per aggregation: under the ingestion gate, read the store's highest
/// sequence S and send <see cref="BatchStarting"/> (the speed layer seals its buffers at S); then
/// compute every new closed hour and every earlier hour that received late events, from the
/// events with a sequence up to S; commit those views together with the new frontier; only then
/// send <see cref="BatchCompleted"/>, after which the speed layer releases what the views cover.
/// </remarks>
internal sealed partial class BatchRunner(
    IEventStore store,
    IViewStore views,
    IngestionGate gate,
    IPublisher publisher,
    AggregationCatalog catalog,
    TimeProvider clock,
    IHeapCompactor heapCompactor,
    IOptions<BatchOptions> options,
    ILogger<BatchRunner> logger,
    IHostApplicationLifetime? lifetime = null)
{
    /// <summary>Upper bound of the slices of one hour, whatever <see cref="BatchOptions.EventsPerHubSlice"/> gives.</summary>
    private const int MaxHubSlices = 64;

    /// <summary>Maximum wait, after each slice, for the collection that frees its rows before the next slice starts.</summary>
    private static readonly TimeSpan SliceCollectionLimit = TimeSpan.FromSeconds(10);

    private static readonly IReadOnlyDictionary<UtcHour, int> NoSlicedHours = new Dictionary<UtcHour, int>();

    private readonly SemaphoreSlim runLock = new(1, 1);

    public Task<BatchRunSummary> RunHourlyAsync(CancellationToken cancellationToken) =>
        RunAsync(BatchRunRequest.Hourly, cancellationToken);

    /// <summary>
    /// Runs the hourly catch-up, optionally for one aggregation, with its watermark capped (a
    /// backfill step) or with extra hours before the watermark recomputed (an operator's recompute).
    /// </summary>
    public async Task<BatchRunSummary> RunAsync(BatchRunRequest request, CancellationToken cancellationToken)
    {
        using var untilStopping = UntilStopping(cancellationToken);
        cancellationToken = untilStopping.Token;
        await runLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // A run that waited for the lock while the service began to stop must not start.
            cancellationToken.ThrowIfCancellationRequested();
            var end = UtcHour.Containing(clock.GetUtcNow());
            Log.HourlyRunStarting(logger, request.Describe(), end.Start);
            var plans = await PlanAndSealAsync(request, end, cancellationToken).ConfigureAwait(false);
            var summaries = await ExecuteInGroupsAsync(plans, cancellationToken).ConfigureAwait(false);

            var bucketsWritten = summaries.Sum(s => s.BucketsWritten);
            Log.HourlyRunCompleted(logger, request.Describe(), end.Start, bucketsWritten, summaries.Count(s => s.Error is not null));
            if (bucketsWritten > 0)
            {
                CompactHeapIfLarge();
            }

            return new BatchRunSummary(summaries);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Log.HourlyRunCancelled(logger, request.Describe());
            throw;
        }
        finally
        {
            runLock.Release();
        }
    }

    public async Task<BatchRunSummary> RunDailyAsync(CancellationToken cancellationToken)
    {
        using var untilStopping = UntilStopping(cancellationToken);
        cancellationToken = untilStopping.Token;
        await runLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            var summaries = new List<AggregationRunSummary>();
            foreach (var definition in catalog.All)
            {
                summaries.Add(await BuildDaysAsync(definition, cancellationToken).ConfigureAwait(false));
            }

            return new BatchRunSummary(summaries);
        }
        finally
        {
            runLock.Release();
        }
    }

    /// <summary>
    /// Returns a source cancelled with <paramref name="cancellationToken"/> or when the host
    /// begins to stop. Hangfire cancels its jobs later than the host's stopping token, and
    /// Kestrel lets a request run on, so without this a run waiting for the lock would start
    /// once the running one was cancelled.
    /// </summary>
    private CancellationTokenSource UntilStopping(CancellationToken cancellationToken) =>
        CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lifetime?.ApplicationStopping ?? CancellationToken.None);

    /// <summary>
    /// Returns the memory of the run to the operating system at once. Without a full collection,
    /// the GC can keep it committed for minutes after the run, until ingestion has allocated
    /// enough for the next gen 2 collection.
    /// </summary>
    /// <remarks>The collection pauses every thread of the process, ingestion included, for its duration.</remarks>
    private void CompactHeapIfLarge()
    {
        var thresholdMegabytes = options.Value.CompactHeapAboveMegabytes;
        var committed = heapCompactor.CommittedBytes;
        if (thresholdMegabytes == 0 || committed <= thresholdMegabytes * 1024L * 1024L)
        {
            return;
        }

        var compaction = heapCompactor.Compact();
        Log.HeapCompacted(logger, compaction.Duration.TotalMilliseconds, committed, compaction.HeapBytesBefore, compaction.HeapBytesAfter, compaction.WorkingSetBefore, compaction.WorkingSetAfter);
    }

    private async Task<List<RunPlan>> PlanAndSealAsync(BatchRunRequest request, UtcHour end, CancellationToken cancellationToken)
    {
        var plans = new List<RunPlan>();
        using (await gate.EnterAsync(cancellationToken).ConfigureAwait(false))
        {
            try
            {
                var sequence = await store.GetMaxSequenceAsync(cancellationToken).ConfigureAwait(false);
                foreach (var definition in catalog.All.Where(request.Includes))
                {
                    var frontier = await views.GetFrontierAsync(definition.ViewId, cancellationToken).ConfigureAwait(false);
                    var from = frontier.Watermark;
                    var to = UtcHour.Max(from, request.WatermarkCap is { } cap ? UtcHour.Min(cap, end) : end);
                    var late = frontier.IsInitial
                        ? []
                        : await store.GetHoursWithEventsAsync(definition.EventType, UtcHour.MinValue, from, frontier.Sequence, sequence, cancellationToken).ConfigureAwait(false);
                    var rewritten = late.Union(request.RecomputedHoursBefore(from)).Order().ToList();
                    var newHours = await store.GetHoursWithEventsAsync(definition.EventType, from, to, 0, sequence, cancellationToken).ConfigureAwait(false);
                    var plan = new RunPlan(request.Describe(), definition, frontier, to, sequence, rewritten, newHours);
                    await publisher.Publish(new BatchStarting(definition.Name, from, to, sequence, rewritten), cancellationToken).ConfigureAwait(false);
                    plans.Add(plan);
                }
            }
            catch (Exception exception)
            {
                // Buffers already sealed must not wait for a completion that will never come.
                foreach (var plan in plans)
                {
                    await publisher.Publish(new BatchFailed(plan.Definition.Name, exception.Message), CancellationToken.None).ConfigureAwait(false);
                }

                throw;
            }
        }

        return plans;
    }

    /// <summary>
    /// Executes all plans as one group, or one group per event type (see
    /// <see cref="ReadsPerEventType"/>), in the order of each type's first plan. Returns the
    /// summaries in plan order.
    /// </summary>
    private async Task<List<AggregationRunSummary>> ExecuteInGroupsAsync(List<RunPlan> plans, CancellationToken cancellationToken)
    {
        IReadOnlyDictionary<UtcHour, int> slicedHours;
        try
        {
            slicedHours = await CountSlicesOfNewHoursAsync(plans, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The plans are sealed, so each must end with BatchFailed, as when a read fails.
            return await FailAllAsync(plans, exception).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            await ReleaseCancelledAsync(plans).ConfigureAwait(false);
            throw;
        }

        // Slices bound the rows in memory better than reads per type do, with fewer reads.
        if (!ReadsPerEventType(plans) || slicedHours.Count > 0)
        {
            return await ExecuteAsync(plans, slicedHours, cancellationToken).ConfigureAwait(false);
        }

        var groups = plans.GroupBy(plan => plan.Definition.EventType).Select(group => group.ToList()).ToList();
        var summaries = new Dictionary<RunPlan, AggregationRunSummary>();
        for (var g = 0; g < groups.Count; g++)
        {
            try
            {
                var groupSummaries = await ExecuteAsync(groups[g], NoSlicedHours, cancellationToken).ConfigureAwait(false);
                for (var i = 0; i < groupSummaries.Count; i++)
                {
                    summaries.Add(groups[g][i], groupSummaries[i]);
                }
            }
            catch (OperationCanceledException)
            {
                // The later groups were sealed too, so they are released as failed.
                await ReleaseCancelledAsync(groups.Skip(g + 1).SelectMany(group => group)).ConfigureAwait(false);
                throw;
            }
        }

        return plans.Select(plan => summaries[plan]).ToList();
    }

    /// <summary>
    /// Whether the run reads each hour once per event type: when
    /// <see cref="BatchOptions.ReadHourPerEventType"/> is set, or when the run covers more
    /// newly stored events than <see cref="BatchOptions.ReadHourPerEventTypeAboveEvents"/>. The
    /// sequences stored since the earliest frontier of the run count those events without a
    /// query.
    /// </summary>
    private bool ReadsPerEventType(List<RunPlan> plans)
    {
        var settings = options.Value;
        if (settings.ReadHourPerEventType)
        {
            return true;
        }

        if (settings.ReadHourPerEventTypeAboveEvents == 0 || plans.Count == 0)
        {
            return false;
        }

        var newEvents = plans[0].Sequence - plans.Min(plan => plan.Frontier.Sequence);
        return newEvents > settings.ReadHourPerEventTypeAboveEvents;
    }

    /// <summary>
    /// Computes the hours of every plan from one read of each hour's events, whatever their event
    /// types, then commits the plans one after the other in plan order. A committed plan's rows
    /// are dropped before the next commit. The new hours of <paramref name="slicedHours"/> are
    /// written slice by slice first, and the commits make them visible.
    /// </summary>
    /// <remarks>
    /// NOTE: without slices, every hour of every plan stays in memory from the end of the reads to
    /// its plan's commit. For one closed hour that is the hour's rows once, but a run that catches
    /// up many hours keeps all of them, unless <see cref="ReadsPerEventType"/> limits the plans to
    /// one event type at a time. With slices, only the rewritten hours stay until the commits.
    /// </remarks>
    /// <param name="slicedHours">The new hours to compute in slices of hubs, with their number of slices.</param>
    private async Task<List<AggregationRunSummary>> ExecuteAsync(List<RunPlan> plans, IReadOnlyDictionary<UtcHour, int> slicedHours, CancellationToken cancellationToken)
    {
        var summaries = new List<AggregationRunSummary>(plans.Count);
        if (plans.Count == 0)
        {
            return summaries;
        }

        List<BucketRows<UtcHour>>?[] hours;
        try
        {
            await WriteNewHoursInSlicesAsync(plans, slicedHours, cancellationToken).ConfigureAwait(false);
            hours = await ComputeHoursAsync(plans, hour => !slicedHours.ContainsKey(hour), cancellationToken).ConfigureAwait(false);

            // The await above resumes inside the call that completed the computation, whose
            // finished frames keep the rows of every plan in their locals until that call
            // returns. Without a yield, the commits below would run on that stack, and no plan's
            // rows could be collected before the whole run ends, even once committed.
            await Task.Yield();
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return await FailAllAsync(plans, exception).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            await ReleaseCancelledAsync(plans).ConfigureAwait(false);
            throw;
        }

        for (var i = 0; i < plans.Count; i++)
        {
            var planHours = hours[i]!;
            hours[i] = null;
            try
            {
                summaries.Add(await CommitAsync(plans[i], planHours, plans[i].NewHours.Count(slicedHours.ContainsKey), cancellationToken).ConfigureAwait(false));
            }
            catch (OperationCanceledException)
            {
                // The plans not committed yet were sealed too, so they are released as failed.
                await ReleaseCancelledAsync(plans.Skip(i + 1)).ConfigureAwait(false);
                throw;
            }
        }

        return summaries;
    }

    /// <summary>
    /// Returns, for each plan, the rows of its rewritten hours and of the new hours that
    /// <paramref name="computesNewHour"/> accepts, in ascending order.
    /// </summary>
    private async Task<List<BucketRows<UtcHour>>?[]> ComputeHoursAsync(List<RunPlan> plans, Func<UtcHour, bool> computesNewHour, CancellationToken cancellationToken)
    {
        var plansByHour = PlansByHour(plans, plan => plan.RewrittenHours.Concat(plan.NewHours.Where(computesNewHour)));
        var hours = plans.Select(_ => (List<BucketRows<UtcHour>>?)new List<BucketRows<UtcHour>>()).ToArray();
        foreach (var (hour, indexes) in plansByHour)
        {
            var definitions = indexes.Select(i => plans[i].Definition).ToArray();
            var rows = await HourAggregator.ComputeAsync(store, definitions, hour, plans[0].Sequence, HubSlice.Whole, cancellationToken).ConfigureAwait(false);
            for (var j = 0; j < indexes.Count; j++)
            {
                hours[indexes[j]]!.Add(rows[j]);
            }
        }

        return hours;
    }

    /// <summary>
    /// Returns the new hours of <paramref name="plans"/> that contain more than
    /// <see cref="BatchOptions.EventsPerHubSlice"/> events of the plans' types, with the number of
    /// slices of hubs to compute each in: the hour's events divided by the setting, rounded up, at
    /// most <see cref="MaxHubSlices"/>. The store counts each hour's events up to the run's sequence.
    /// </summary>
    private async Task<IReadOnlyDictionary<UtcHour, int>> CountSlicesOfNewHoursAsync(List<RunPlan> plans, CancellationToken cancellationToken)
    {
        var eventsPerSlice = options.Value.EventsPerHubSlice;
        var slicedHours = new Dictionary<UtcHour, int>();
        if (eventsPerSlice == 0 || plans.Count == 0)
        {
            return slicedHours;
        }

        foreach (var (hour, indexes) in PlansByHour(plans, plan => plan.NewHours))
        {
            var types = indexes.Select(i => plans[i].Definition.EventType).Distinct().ToArray();
            var events = await store.CountHourAsync(hour, types, plans[0].Sequence, cancellationToken).ConfigureAwait(false);
            var slices = (int)Math.Clamp((events + eventsPerSlice - 1) / eventsPerSlice, 1, MaxHubSlices);
            if (slices > 1)
            {
                slicedHours.Add(hour, slices);
            }
        }

        return slicedHours;
    }

    /// <summary>
    /// Computes and writes each new hour of <paramref name="slicedHours"/> for the plans that
    /// have it, in its number of slices of hubs, one slice at a time. The speed layer compares
    /// each slice with its buffers. No reader sees these rows before each plan's commit moves its
    /// watermark past them. A run that stops first leaves them to be replaced by the next run.
    /// </summary>
    private async Task WriteNewHoursInSlicesAsync(List<RunPlan> plans, IReadOnlyDictionary<UtcHour, int> slicedHours, CancellationToken cancellationToken)
    {
        foreach (var (hour, indexes) in PlansByHour(plans, plan => plan.NewHours.Where(slicedHours.ContainsKey)))
        {
            var slices = slicedHours[hour];
            var definitions = indexes.Select(i => plans[i].Definition).ToArray();
            for (var s = 0; s < slices; s++)
            {
                var slice = new HubSlice(s, slices);
                var rows = await HourAggregator.ComputeAsync(store, definitions, hour, plans[0].Sequence, slice, cancellationToken).ConfigureAwait(false);

                // As in ExecuteAsync: without it, every later slice would run on the stack of
                // the call that completed this one, and keep its rows alive to the end.
                await Task.Yield();
                for (var j = 0; j < indexes.Count; j++)
                {
                    var plan = plans[indexes[j]];
                    await views.WriteHourPartAsync(plan.Definition, rows[j], replace: s == 0, cancellationToken).ConfigureAwait(false);
                    await publisher.Publish(new BatchHourSliceComputed(plan.Definition.Name, hour, plan.Sequence, slice.Contains, rows[j].Rows), cancellationToken).ConfigureAwait(false);
                }

                // The slice's rows are garbage now. They lived long enough to reach the oldest
                // generation, and their large arrays sit in the large object heap: only a full
                // collection frees them. Waiting for it keeps one slice's garbage at a time.
                rows = null;
                if (!await heapCompactor.CollectInBackgroundAsync(SliceCollectionLimit, cancellationToken).ConfigureAwait(false))
                {
                    Log.SliceCollectionTimedOut(logger, plans[indexes[0]].Run, hour.Start, s + 1, slices, SliceCollectionLimit.TotalSeconds);
                }
            }

            Log.HourWrittenInSlices(logger, plans[indexes[0]].Run, hour.Start, string.Join(", ", definitions.Select(definition => definition.Name)), slices);
        }
    }

    /// <summary>Returns, for each hour that <paramref name="hoursOf"/> gives some plan, the indexes of those plans, in ascending hour order.</summary>
    private static SortedDictionary<UtcHour, List<int>> PlansByHour(List<RunPlan> plans, Func<RunPlan, IEnumerable<UtcHour>> hoursOf)
    {
        var plansByHour = new SortedDictionary<UtcHour, List<int>>();
        for (var i = 0; i < plans.Count; i++)
        {
            foreach (var hour in hoursOf(plans[i]))
            {
                if (!plansByHour.TryGetValue(hour, out var indexes))
                {
                    indexes = [];
                    plansByHour.Add(hour, indexes);
                }

                indexes.Add(i);
            }
        }

        return plansByHour;
    }

    /// <param name="slicedHours">New hours of the plan already written in slices, which the commit makes visible.</param>
    private async Task<AggregationRunSummary> CommitAsync(RunPlan plan, List<BucketRows<UtcHour>> hours, int slicedHours, CancellationToken cancellationToken)
    {
        var definition = plan.Definition;
        try
        {
            var days = await RebuildDaysWithLateEventsAsync(plan, hours, cancellationToken).ConfigureAwait(false);
            var frontier = new BatchFrontier(plan.To, plan.Sequence, plan.Frontier.DailyWatermark);
            await views.CommitAsync(definition, hours, days, frontier, cancellationToken).ConfigureAwait(false);
            await publisher.Publish(new BatchCompleted(definition.Name, frontier, hours), CancellationToken.None).ConfigureAwait(false);

            Log.AggregationCompleted(logger, definition.Name, plan.Run, plan.NewHours.Count, plan.RewrittenHours.Count, frontier.Watermark.Start, frontier.Sequence);
            return new AggregationRunSummary(definition.Name, frontier.Watermark, hours.Count + slicedHours, null);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return await FailAsync(plan, exception).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            await publisher.Publish(new BatchFailed(definition.Name, "cancelled"), CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Fails every plan of <paramref name="plans"/> with <paramref name="exception"/>, and returns their summaries in order.</summary>
    private async Task<List<AggregationRunSummary>> FailAllAsync(List<RunPlan> plans, Exception exception)
    {
        var failed = new List<AggregationRunSummary>(plans.Count);
        foreach (var plan in plans)
        {
            failed.Add(await FailAsync(plan, exception).ConfigureAwait(false));
        }

        return failed;
    }

    /// <summary>Sends <see cref="BatchFailed"/> for each sealed plan that a cancelled run will not commit, so that the speed layer stops waiting for it.</summary>
    private async Task ReleaseCancelledAsync(IEnumerable<RunPlan> plans)
    {
        foreach (var plan in plans)
        {
            await publisher.Publish(new BatchFailed(plan.Definition.Name, "cancelled"), CancellationToken.None).ConfigureAwait(false);
        }
    }

    private async Task<AggregationRunSummary> FailAsync(RunPlan plan, Exception exception)
    {
        // Before its first run, an aggregation's watermark is the minimum hour (year 1), which
        // would read as a date in the log. The run began at its first hour with events, or
        // covered no hour when there is none.
        var from = !plan.Frontier.IsInitial ? plan.Frontier.Watermark
            : plan.NewHours.Count > 0 ? plan.NewHours.Min()
            : plan.To;
        Log.AggregationFailed(logger, exception, plan.Definition.Name, plan.Run, from.Start, plan.To.Start);
        await publisher.Publish(new BatchFailed(plan.Definition.Name, exception.Message), CancellationToken.None).ConfigureAwait(false);
        return new AggregationRunSummary(plan.Definition.Name, plan.Frontier.IsInitial ? null : plan.Frontier.Watermark, 0, exception.Message);
    }

    /// <summary>Recomputes the daily views of days that already had them and received late events.</summary>
    private async Task<List<BucketRows<UtcDay>>> RebuildDaysWithLateEventsAsync(RunPlan plan, List<BucketRows<UtcHour>> hours, CancellationToken cancellationToken)
    {
        var days = new List<BucketRows<UtcDay>>();
        var recomputed = hours.ToDictionary(hour => hour.Bucket);
        var lateDays = plan.RewrittenHours.Select(hour => hour.Day).Where(day => day < plan.Frontier.DailyWatermark).Distinct();
        foreach (var day in lateDays)
        {
            var stored = await views.ReadDayHoursAsync(plan.Definition, day, cancellationToken).ConfigureAwait(false);
            var merged = stored.Where(hour => !recomputed.ContainsKey(hour.Bucket))
                .Concat(recomputed.Values.Where(hour => hour.Bucket.Day == day));
            days.Add(HourAggregator.MergeDay(plan.Definition, day, merged));
        }

        return days;
    }

    private async Task<AggregationRunSummary> BuildDaysAsync(AggregationDefinition definition, CancellationToken cancellationToken)
    {
        try
        {
            var frontier = await views.GetFrontierAsync(definition.ViewId, cancellationToken).ConfigureAwait(false);
            var end = new UtcDay(frontier.Watermark.Index / 24);
            if (frontier.IsInitial || end <= frontier.DailyWatermark)
            {
                return new AggregationRunSummary(definition.Name, frontier.IsInitial ? null : frontier.Watermark, 0, null);
            }

            var days = new List<BucketRows<UtcDay>>();
            foreach (var day in await views.GetDaysWithHourlyRowsAsync(definition, frontier.DailyWatermark, end, cancellationToken).ConfigureAwait(false))
            {
                var hours = await views.ReadDayHoursAsync(definition, day, cancellationToken).ConfigureAwait(false);
                days.Add(HourAggregator.MergeDay(definition, day, hours));
            }

            var updated = frontier with { DailyWatermark = end };
            await views.CommitAsync(definition, [], days, updated, cancellationToken).ConfigureAwait(false);
            await publisher.Publish(new DailyViewsCompleted(definition.Name, updated), CancellationToken.None).ConfigureAwait(false);
            Log.DailyCompleted(logger, definition.Name, days.Count, end.Start);
            return new AggregationRunSummary(definition.Name, updated.Watermark, days.Count, null);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            Log.DailyFailed(logger, exception, definition.Name);
            return new AggregationRunSummary(definition.Name, null, 0, exception.Message);
        }
    }

    /// <param name="Run">The run's name in logs, from <see cref="BatchRunRequest.Describe"/>.</param>
    private sealed record RunPlan(
        string Run,
        AggregationDefinition Definition,
        BatchFrontier Frontier,
        UtcHour To,
        long Sequence,
        IReadOnlyList<UtcHour> RewrittenHours,
        IReadOnlyList<UtcHour> NewHours);

    private static partial class Log
    {
        [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "{Run} starting; closed hours end at {End:yyyy-MM-dd'T'HH:mm:sszzz}")]
        public static partial void HourlyRunStarting(ILogger logger, string run, DateTimeOffset end);

        [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "{Run} completed up to {End:yyyy-MM-dd'T'HH:mm:sszzz}: {BucketCount} hourly views written (one per aggregation and hour), {FailedCount} aggregations failed")]
        public static partial void HourlyRunCompleted(ILogger logger, string run, DateTimeOffset end, int bucketCount, int failedCount);

        [LoggerMessage(EventId = 2003, Level = LogLevel.Information, Message = "Batch of {Aggregation} ({Run}) committed {NewHourCount} new hours and rewrote {RewrittenHourCount} earlier hours (for late events or a recompute; an hour left without events loses its rows); watermark {Watermark:yyyy-MM-dd'T'HH:mm:sszzz}, sequence {Sequence}")]
        public static partial void AggregationCompleted(ILogger logger, string aggregation, string run, int newHourCount, int rewrittenHourCount, DateTimeOffset watermark, long sequence);

        [LoggerMessage(EventId = 2004, Level = LogLevel.Error, Message = "Batch of {Aggregation} ({Run}) failed for hours from {From:yyyy-MM-dd'T'HH:mm:sszzz} to {To:yyyy-MM-dd'T'HH:mm:sszzz}; the speed layer keeps its buffers and the next run retries")]
        public static partial void AggregationFailed(ILogger logger, Exception exception, string aggregation, string run, DateTimeOffset from, DateTimeOffset to);

        [LoggerMessage(EventId = 2005, Level = LogLevel.Information, Message = "Daily views of {Aggregation} built for {DayCount} days; daily watermark {DailyWatermark:yyyy-MM-dd'T'HH:mm:sszzz}")]
        public static partial void DailyCompleted(ILogger logger, string aggregation, int dayCount, DateTimeOffset dailyWatermark);

        [LoggerMessage(EventId = 2007, Level = LogLevel.Information, Message = "Heap compacted after the hourly batch in {DurationMilliseconds} ms: {CommittedBytes} bytes committed before; managed heap {HeapBytesBefore} to {HeapBytesAfter} bytes, working set {WorkingSetBefore} to {WorkingSetAfter} bytes")]
        public static partial void HeapCompacted(ILogger logger, double durationMilliseconds, long committedBytes, long heapBytesBefore, long heapBytesAfter, long workingSetBefore, long workingSetAfter);

        [LoggerMessage(EventId = 2008, Level = LogLevel.Information, Message = "{Run} wrote hour {Hour:yyyy-MM-dd'T'HH:mm:sszzz} of {Aggregations} in {SliceCount} slices of hubs; the commit makes it visible")]
        public static partial void HourWrittenInSlices(ILogger logger, string run, DateTimeOffset hour, string aggregations, int sliceCount);

        [LoggerMessage(EventId = 2012, Level = LogLevel.Information, Message = "{Run} cancelled; aggregations not yet committed keep their watermarks, the speed layer keeps serving their hours, and the next run computes them")]
        public static partial void HourlyRunCancelled(ILogger logger, string run);

        [LoggerMessage(EventId = 2009, Level = LogLevel.Warning, Message = "{Run}: the garbage collection after slice {Slice} of {SliceCount} of hour {Hour:yyyy-MM-dd'T'HH:mm:sszzz} did not end within {LimitSeconds} s; the next slice starts beside it, so the batch's memory peak may be higher")]
        public static partial void SliceCollectionTimedOut(ILogger logger, string run, DateTimeOffset hour, int slice, int sliceCount, double limitSeconds);

        [LoggerMessage(EventId = 2006, Level = LogLevel.Error, Message = "Daily views of {Aggregation} failed; the next run retries")]
        public static partial void DailyFailed(ILogger logger, Exception exception, string aggregation);
    }
}
