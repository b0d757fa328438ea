using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace LambdaStats.Modules.Aggregation;

public static class AggregationModule
{
    /// <summary>Registers the aggregation catalogue read from the <c>Aggregations</c> section.</summary>
    public static IServiceCollection AddAggregationModule(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AggregationOptions>()
            .Configure(options => options.Items = configuration.GetSection(AggregationOptions.SectionName).Get<List<AggregationDefinitionOptions>>() ?? []);
        services.AddSingleton(provider => AggregationCatalog.FromOptions(provider.GetRequiredService<IOptions<AggregationOptions>>().Value));
        return services;
    }
}
