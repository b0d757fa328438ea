using Microsoft.AspNetCore.Diagnostics.HealthChecks;

namespace LambdaStats.Web.Endpoints;

internal static class HealthEndpoints
{
    /// <summary><c>/health/live</c> answers as soon as the process serves HTTP; <c>/health/ready</c> once the speed layer is rebuilt.</summary>
    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready") });
        return app;
    }
}
