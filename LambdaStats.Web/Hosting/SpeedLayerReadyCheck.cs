using LambdaStats.Modules.Speed.Contracts;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace LambdaStats.Web.Hosting;

/// <summary>
/// Readiness check that passes once the speed buffers are rebuilt from the event store. The
/// rebuild is a normal phase of every start, so it reports Degraded, which the health check
/// service logs as a warning, rather than Unhealthy, which it logs as an error. /health/ready
/// returns 503 for both.
/// </summary>
internal sealed class SpeedLayerReadyCheck(ISpeedLayer speed) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(speed.IsReady
            ? HealthCheckResult.Healthy("Speed buffers rebuilt.")
            : HealthCheckResult.Degraded("Speed buffers are being rebuilt from the event store."));
}
