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
            .Configure(options => options.Items = ReadCatalogue(configuration.GetSection(AggregationOptions.SectionName)));
        services.AddSingleton(provider => AggregationCatalog.FromOptions(provider.GetRequiredService<IOptions<AggregationOptions>>().Value));
        return services;
    }

    /// <summary>
    /// Binds the catalogue one aggregation and one output at a time. Bound as a list, an entry
    /// with a value of the wrong type (<c>"speedLayer": "yes"</c>, <c>"precision": "high"</c>)
    /// would be dropped without a word; bound alone, it throws with the key and the value.
    /// </summary>
    /// <exception cref="InvalidOperationException">A value cannot be converted to its setting's type.</exception>
    internal static List<AggregationDefinitionOptions> ReadCatalogue(IConfigurationSection section) =>
        section.GetChildren().Select(ReadDefinition).ToList();

    private static AggregationDefinitionOptions ReadDefinition(IConfigurationSection section)
    {
        var definition = section.Get<AggregationDefinitionOptions>() ?? new AggregationDefinitionOptions();
        definition.Outputs = section.GetSection("outputs").GetChildren().Select(output => output.Get<OutputOptions>() ?? new OutputOptions()).ToList();
        return definition;
    }
}
