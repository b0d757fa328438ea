using LambdaStats.Modules.Speed.Contracts;
using Microsoft.Extensions.DependencyInjection;

namespace LambdaStats.Modules.Speed;

public static class SpeedModule
{
    /// <summary>Registers the in-memory speed layer and the startup rebuild of its buffers.</summary>
    public static IServiceCollection AddSpeedModule(this IServiceCollection services)
    {
        services.AddMetrics();
        services.AddSingleton<DivergenceCheck>();
        services.AddSingleton<SpeedLayer>();
        services.AddSingleton<ISpeedLayer>(provider => provider.GetRequiredService<SpeedLayer>());
        services.AddSingleton<SpeedRebuilder>();
        services.AddHostedService<SpeedStartupService>();
        return services;
    }
}
