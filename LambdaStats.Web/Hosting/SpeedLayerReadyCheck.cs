using LambdaStats.Modules.Speed.Contracts;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace LambdaStats.Web.Hosting;

/// <summary>
/// Readiness check that passes once the speed buffers are rebuilt from the event store. The
/// rebuild is a normal phase of every start, so it reports Degraded rather than Unhealthy, which
/// the health check service logs as an error. /health/ready returns 503 for both.
/// </summary>
/// <remarks>
/// A singleton, so that it logs each change of status once (to Degraded with a warning, back to
/// Healthy with an information line) instead of a line per probe. The health check service's own
/// line per probe is filtered out, see <see cref="LambdaStatsHostExtensions"/>.
/// </remarks>
internal sealed partial class SpeedLayerReadyCheck(ISpeedLayer speed, ILogger<SpeedLayerReadyCheck> logger) : IHealthCheck
{
    // Starts as Healthy, so a first probe after the rebuild logs nothing, because the speed
    // layer logs its own start.
    private int reportedStatus = (int)HealthStatus.Healthy;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var result = speed.IsReady
            ? HealthCheckResult.Healthy("Speed buffers rebuilt.")
            : HealthCheckResult.Degraded("Speed buffers are being rebuilt from the event store.");

        // Concurrent probes may both see the change, but the exchange lets only one of them log it.
        var previous = (HealthStatus)Interlocked.Exchange(ref reportedStatus, (int)result.Status);
        if (previous != result.Status)
        {
            if (result.Status == HealthStatus.Healthy)
            {
                Log.Ready(logger);
            }
            else
            {
                Log.NotReady(logger);
            }
        }

        return Task.FromResult(result);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6001, Level = LogLevel.Warning, Message = "Readiness changed to Degraded: the speed buffers are being rebuilt from the event store, and /health/ready returns 503 until they are")]
        public static partial void NotReady(ILogger logger);

        [LoggerMessage(EventId = 6002, Level = LogLevel.Information, Message = "Readiness changed to Healthy: the speed buffers are rebuilt, and /health/ready returns 200")]
        public static partial void Ready(ILogger logger);
    }
}
