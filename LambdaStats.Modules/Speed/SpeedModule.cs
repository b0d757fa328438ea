using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Aggregation.Columns;
using LambdaStats.Modules.Speed.Contracts;
using LambdaStats.Modules.Storage.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LambdaStats.Modules.Speed;

public static class SpeedModule
{
    /// <summary>Name of the directory of scratch files, under the data directory.</summary>
    public const string ScratchDirectoryName = "speed";

    /// <summary>
    /// Registers the speed layer, the startup rebuild of its buffers and its settings from the
    /// <c>Speed</c> section. Its scratch files go to <c>speed</c> under <c>Storage:DataDirectory</c>.
    /// </summary>
    public static IServiceCollection AddSpeedModule(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddMetrics();
        services.AddOptions<SpeedOptions>()
            .Bind(configuration.GetSection(SpeedOptions.SectionName))
            .Validate(
                options => options.PairsInMemory >= 1,
                $"{SpeedOptions.PairsInMemoryKey} must be 1 or more: it is the number of pairs that one exact distinctCount or projectionAdd output keeps in memory per hour before it moves them to a scratch file.")
            .ValidateOnStart();
        services.AddSingleton(provider =>
        {
            var storage = configuration.GetSection(SqliteStorageOptions.SectionName).Get<SqliteStorageOptions>() ?? new SqliteStorageOptions();
            var options = provider.GetRequiredService<IOptions<SpeedOptions>>().Value;
            return new PairScratch(Path.Combine(storage.ResolveDataDirectory(), ScratchDirectoryName), options.PairsInMemory, provider.GetRequiredService<ILogger<PairScratch>>());
        });
        services.AddSingleton<DivergenceCheck>();
        services.AddSingleton(provider => new SpeedLayer(
            provider.GetRequiredService<AggregationCatalog>(),
            provider.GetRequiredService<DivergenceCheck>(),
            provider.GetRequiredService<PairScratch>()));
        services.AddSingleton<ISpeedLayer>(provider => provider.GetRequiredService<SpeedLayer>());
        services.AddSingleton<SpeedRebuilder>();
        services.AddHostedService<SpeedStartupService>();
        return services;
    }

    /// <summary>
    /// Creates and deletes a probe file in the scratch directory, as the speed layer does when the
    /// host starts, so that a host can report a directory it cannot write before it starts.
    /// </summary>
    /// <exception cref="InvalidOperationException">The directory cannot be written; the message names it.</exception>
    public static void EnsureScratchDirectoryWritable(IServiceProvider services) =>
        services.GetRequiredService<PairScratch>().EnsureWritable();
}
