using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Batch;
using LambdaStats.Modules.Events;
using LambdaStats.Modules.Speed;
using LambdaStats.Modules.View;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace LambdaStats.Modules;

public static class LambdaStatsModules
{
    /// <summary>
    /// Registers every module and the mediator that wires them. Storage adapters, the bus
    /// transport, Hangfire storage and the clock are the host's to register.
    /// </summary>
    public static IServiceCollection AddLambdaStatsModules(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddMediator(options => options.ServiceLifetime = ServiceLifetime.Singleton);
        services.AddAggregationModule(configuration);
        services.AddEventsModule(configuration);
        services.AddSpeedModule(configuration);
        services.AddBatchModule(configuration);
        services.AddViewModule();
        return services;
    }
}
