using LambdaStats.Modules.Events.Contracts;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace LambdaStats.Modules.Storage.MongoDb;

public static class MongoStorageModule
{
    /// <summary>
    /// Registers the MongoDB event store as the singleton <see cref="IEventStore"/>, configured
    /// from the <c>Storage:MongoDb</c> section. It connects and creates its indexes when first
    /// resolved, so an unreachable server stops the startup with a message naming the setting.
    /// </summary>
    public static IServiceCollection AddMongoEventStore(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<MongoEventStoreOptions>().Bind(configuration.GetSection(MongoEventStoreOptions.SectionName));
        services.AddSingleton<IEventStore, MongoEventStore>();
        return services;
    }
}
