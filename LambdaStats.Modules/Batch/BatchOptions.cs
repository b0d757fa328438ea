namespace LambdaStats.Modules.Batch;

/// <summary>Batch schedule, bound from the <c>Batch</c> section.</summary>
public sealed class BatchOptions
{
    public const string SectionName = "Batch";

    /// <summary>Cron expression of the hourly catch-up, evaluated in UTC. Default: minute 0 of every hour.</summary>
    public string HourlyCron { get; set; } = "0 * * * *";

    /// <summary>Cron expression of the daily views job, evaluated in UTC. Default: 00:10 every day.</summary>
    public string DailyCron { get; set; } = "10 0 * * *";

    /// <summary>
    /// After an hourly run that wrote views, a blocking, compacting garbage collection returns
    /// the run's memory to the operating system when the GC has more than this many MiB
    /// committed. Default: 512. 0 turns the collection off.
    /// </summary>
    public int CompactHeapAboveMegabytes { get; set; } = 512;

    /// <summary>
    /// Whether an hourly run reads each hour once per event type and commits that type's
    /// aggregations before it reads the next type, in place of one read of the hour for all
    /// types. Fewer rows then exist at once, for the cost of more reads. Default: false.
    /// </summary>
    public bool ReadHourPerEventType { get; set; }

    /// <summary>
    /// A run that covers more newly stored events than this reads each hour once per event type,
    /// as with <see cref="ReadHourPerEventType"/>: a large run then keeps the rows of one type's
    /// aggregations at a time. The count is the store's sequences since the run's earliest
    /// frontier. Default: 2,000,000. 0 turns the switch off.
    /// </summary>
    public long ReadHourPerEventTypeAboveEvents { get; set; } = 2_000_000;

    /// <summary>
    /// A new hour that contains more events than this, of the types of the aggregations that read
    /// it, is computed and written in slices of hubs, about this many events each, at most 64. The
    /// watermark moves only once every slice is written. A slice's rows are dropped before the
    /// next slice is read, so the run keeps a slice of the hour in memory at a time, for the cost
    /// of one read of the hour per slice. One hub's events always fall in one slice. The store
    /// counts each new hour's events. Hours rewritten for late events or a recompute are
    /// computed whole. Slicing replaces <see cref="ReadHourPerEventType"/> for a run with a
    /// sliced hour. Default: 1,000,000. 0 turns slicing off.
    /// </summary>
    public long EventsPerHubSlice { get; set; } = 1_000_000;

    /// <summary>Whether to register the recurring jobs with Hangfire at startup.</summary>
    public bool ScheduleJobs { get; set; } = true;
}
