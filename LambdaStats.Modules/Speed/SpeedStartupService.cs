using LambdaStats.Modules.Aggregation.Columns;
using LambdaStats.Modules.Events.Contracts;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LambdaStats.Modules.Speed;

/// <summary>
/// Rebuilds the speed buffers in the background at startup. The ingestion gate is taken before
/// <see cref="StartAsync"/> returns, so no event is ingested before the rebuild has read the
/// store; queries wait for <see cref="SpeedLayer.WhenReadyAsync"/>, and <c>/health/ready</c>
/// reports not ready until then while <c>/health/live</c> answers at once.
/// </summary>
internal sealed partial class SpeedStartupService(
    SpeedRebuilder rebuilder,
    SpeedLayer speed,
    PairScratch scratch,
    IngestionGate gate,
    IHostApplicationLifetime lifetime,
    ILogger<SpeedStartupService> logger) : IHostedService
{
    private Task rebuild = Task.CompletedTask;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        Log.Starting(logger);

        // The scratch files of a previous process contain derived state that the rebuild replaces.
        var deleted = scratch.DeleteFiles();
        Log.ScratchFilesDeleted(logger, deleted, scratch.Directory);
        scratch.EnsureWritable();
        var held = await gate.EnterAsync(cancellationToken).ConfigureAwait(false);
        rebuild = Task.Run(() => RebuildAsync(held), CancellationToken.None);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await rebuild.WaitAsync(cancellationToken).ConfigureAwait(false);

        // The next start rebuilds the buffers, so their scratch files are of no use after this
        // process. On Linux an open file can be deleted; a write that follows goes to the
        // deleted file, and its space returns when the process ends.
        var deleted = scratch.DeleteFiles();
        Log.Stopped(logger, deleted);
    }

    private async Task RebuildAsync(IDisposable held)
    {
        try
        {
            using (held)
            {
                await rebuilder.RebuildHoldingGateAsync(lifetime.ApplicationStopping).ConfigureAwait(false);
            }

            Log.Started(logger);
        }
        catch (OperationCanceledException) when (lifetime.ApplicationStopping.IsCancellationRequested)
        {
            Log.RebuildCancelled(logger);
        }
        catch (Exception exception)
        {
            // Queries without the rebuilt buffers would undercount, so the service stops. The
            // host's runner reports the reason as a failed start.
            speed.MarkRebuildFailed(exception);
            Log.RebuildFailed(logger, exception);
            lifetime.StopApplication();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3010, Level = LogLevel.Information, Message = "Speed layer starting: rebuilding buffers from the event store")]
        public static partial void Starting(ILogger logger);

        [LoggerMessage(EventId = 3011, Level = LogLevel.Information, Message = "Speed layer ready")]
        public static partial void Started(ILogger logger);

        [LoggerMessage(EventId = 3012, Level = LogLevel.Information, Message = "Speed layer stopped; {FileCount} scratch files deleted")]
        public static partial void Stopped(ILogger logger, int fileCount);

        [LoggerMessage(EventId = 3013, Level = LogLevel.Critical, Message = "Speed layer rebuild failed; stopping the service because its answers would miss events")]
        public static partial void RebuildFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 3015, Level = LogLevel.Information, Message = "Deleted {FileCount} scratch files of a previous process from {Directory}")]
        public static partial void ScratchFilesDeleted(ILogger logger, int fileCount, string directory);

        [LoggerMessage(EventId = 3014, Level = LogLevel.Information, Message = "Speed layer rebuild cancelled by shutdown")]
        public static partial void RebuildCancelled(ILogger logger);
    }
}
