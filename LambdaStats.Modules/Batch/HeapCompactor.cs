using System.Runtime;

namespace LambdaStats.Modules.Batch;

/// <summary>
/// The garbage collection that returns the memory of a finished batch run to the operating
/// system. An interface so that tests can see when the batch requests it.
/// </summary>
internal interface IHeapCompactor
{
    /// <summary>Bytes committed by the GC after its last collection.</summary>
    long CommittedBytes { get; }

    /// <summary>Runs a blocking collection of every generation that compacts the heap, the large object heap included, and decommits the free memory.</summary>
    HeapCompaction Compact();

    /// <summary>
    /// Starts a collection of every generation that runs beside the other threads where the GC
    /// can (a background collection), and completes when that collection has ended, or after
    /// <paramref name="limit"/> at most.
    /// </summary>
    /// <returns>Whether the collection ended within <paramref name="limit"/>.</returns>
    Task<bool> CollectInBackgroundAsync(TimeSpan limit, CancellationToken cancellationToken);
}

/// <summary>Duration of one compaction, with the managed heap and the process working set (RSS on Linux) before and after it, in bytes.</summary>
internal sealed record HeapCompaction(TimeSpan Duration, long HeapBytesBefore, long HeapBytesAfter, long WorkingSetBefore, long WorkingSetAfter);

/// <summary>Compacts the process's own heap through <see cref="GC"/>.</summary>
internal sealed class GcHeapCompactor(TimeProvider clock) : IHeapCompactor
{
    public long CommittedBytes => GC.GetGCMemoryInfo().TotalCommittedBytes;

    public HeapCompaction Compact()
    {
        var heapBefore = GC.GetTotalMemory(forceFullCollection: false);
        var workingSetBefore = Environment.WorkingSet;
        var started = clock.GetTimestamp();

        // Aggressive mode (.NET 7 and later) requires a blocking, compacting collection and
        // returns as much free memory to the operating system as it can.
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);

        var duration = clock.GetElapsedTime(started);
        return new HeapCompaction(duration, heapBefore, GC.GetTotalMemory(forceFullCollection: false), workingSetBefore, Environment.WorkingSet);
    }

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(10);

    public async Task<bool> CollectInBackgroundAsync(TimeSpan limit, CancellationToken cancellationToken)
    {
        var background = GC.GetGCMemoryInfo(GCKind.Background).Index;
        var blocking = GC.GetGCMemoryInfo(GCKind.FullBlocking).Index;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: false, compacting: false);

        // The GC may run the request as a blocking collection, which has ended by now, or as a
        // background one, which ends later. GCMemoryInfo records a collection when it ends. The
        // collection runs in the process's real time whatever clock the host was given, so the
        // wait counts polls on the system's timers rather than reading the injected clock.
        // NOTE: any full collection that ends first also ends the wait, such as a background one
        // already running when this request came, so the caller's garbage may not be freed yet.
        var polls = limit / PollInterval;
        for (var poll = 0; poll < polls; poll++)
        {
            if (GC.GetGCMemoryInfo(GCKind.Background).Index != background || GC.GetGCMemoryInfo(GCKind.FullBlocking).Index != blocking)
            {
                return true;
            }

            await Task.Delay(PollInterval, TimeProvider.System, cancellationToken).ConfigureAwait(false);
        }

        return GC.GetGCMemoryInfo(GCKind.Background).Index != background || GC.GetGCMemoryInfo(GCKind.FullBlocking).Index != blocking;
    }
}
