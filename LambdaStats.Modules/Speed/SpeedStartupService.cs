using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LambdaStats.Modules.Speed;

/// <summary>Rebuilds the speed buffers before the host starts consuming events or serving queries.</summary>
internal sealed partial class SpeedStartupService(SpeedRebuilder rebuilder, ILogger<SpeedStartupService> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        Log.Starting(logger);
        await rebuilder.RebuildAsync(cancellationToken).ConfigureAwait(false);
        Log.Started(logger);
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Log.Stopped(logger);
        return Task.CompletedTask;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3010, Level = LogLevel.Information, Message = "Speed layer starting: rebuilding buffers from the event store")]
        public static partial void Starting(ILogger logger);

        [LoggerMessage(EventId = 3011, Level = LogLevel.Information, Message = "Speed layer started")]
        public static partial void Started(ILogger logger);

        [LoggerMessage(EventId = 3012, Level = LogLevel.Information, Message = "Speed layer stopped")]
        public static partial void Stopped(ILogger logger);
    }
}
