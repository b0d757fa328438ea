using LambdaStats.Modules.Speed.Contracts;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace LambdaStats.Web.Hosting;

/// <summary>Ready once the speed buffers are rebuilt from the event store.</summary>
internal sealed class SpeedLayerReadyCheck(ISpeedLayer speed) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(speed.IsReady
            ? HealthCheckResult.Healthy("Speed buffers rebuilt.")
            : HealthCheckResult.Unhealthy("Speed buffers are being rebuilt from the event store."));
}
