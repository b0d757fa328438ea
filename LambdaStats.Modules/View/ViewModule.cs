using LambdaStats.Modules.View.Contracts;
using Microsoft.Extensions.DependencyInjection;

namespace LambdaStats.Modules.View;

public static class ViewModule
{
    /// <summary>Registers the query side: aggregation answers and the admin status.</summary>
    public static IServiceCollection AddViewModule(this IServiceCollection services)
    {
        services.AddSingleton<IAggregationQueries, AggregationQueryService>();
        services.AddSingleton<IStatusQueries, StatusQueries>();
        return services;
    }
}
