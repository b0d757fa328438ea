using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.Speed.Contracts;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace LambdaStats.Web.Hosting;

/// <summary>
/// Readiness check that reads the highest stored sequence, so that an event store that stopped
/// responding while the service runs (a MongoDB server that went down) fails
/// <c>/health/ready</c>. Registered with a timeout, after which the health check service reports
/// it Unhealthy. During the startup rebuild it reads nothing: the rebuild reads the store itself,
/// and the speed layer's check already keeps the service not ready.
/// </summary>
internal sealed class EventStoreReadyCheck(IEventStore store, ISpeedLayer speed) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!speed.IsReady)
        {
            return HealthCheckResult.Healthy("Not checked during the speed layer's rebuild.");
        }

        try
        {
            await store.GetMaxSequenceAsync(cancellationToken).ConfigureAwait(false);
            return HealthCheckResult.Healthy("The event store responded.");
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy($"The event store did not respond: {exception.GetType().Name}.", exception);
        }
    }
}
