using LambdaStats.Modules.View.Cache;
using LambdaStats.Modules.View.Contracts;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LambdaStats.Modules.View;

public static class ViewModule
{
    internal const string StoreKey = "LambdaStats.View.UncachedStore";

    /// <summary>Registers the query side: aggregation answers and the admin status.</summary>
    public static IServiceCollection AddViewModule(this IServiceCollection services)
    {
        services.AddSingleton<IAggregationQueries, AggregationQueryService>();
        services.AddSingleton<IStatusQueries, StatusQueries>();
        return services;
    }

    /// <summary>
    /// Puts the in-memory cache of view buckets in front of the view store registered so far, so
    /// that every reader and writer of <see cref="IViewStore"/> goes through it. Call it after the
    /// storage adapter is registered; settings come from the <c>View:Cache</c> section.
    /// </summary>
    /// <exception cref="InvalidOperationException">No view store is registered yet.</exception>
    public static IServiceCollection AddViewCache(this IServiceCollection services, IConfiguration configuration)
    {
        var store = services.LastOrDefault(descriptor => descriptor.ServiceType == typeof(IViewStore) && !descriptor.IsKeyedService)
            ?? throw new InvalidOperationException("AddViewCache needs a view store: register the storage adapter (for example AddSqliteStorage) before it.");
        services.Remove(store);
        services.Add(Keyed(store));
        services.AddOptions<ViewCacheOptions>()
            .Bind(configuration.GetSection(ViewCacheOptions.SectionName))
            .Validate(options => options.MaxMegabytes >= 0, "View:Cache:MaxMegabytes must be 0 (off) or more.")
            .ValidateOnStart();
        services.AddSingleton<IViewStore>(provider => new CachedViewStore(
            provider.GetRequiredKeyedService<IViewStore>(StoreKey),
            provider.GetRequiredService<IOptions<ViewCacheOptions>>().Value,
            provider.GetRequiredService<ILogger<CachedViewStore>>()));
        return services;
    }

    /// <summary>The same registration as <paramref name="store"/>, under the cache's key, so the container still creates and disposes it.</summary>
    private static ServiceDescriptor Keyed(ServiceDescriptor store)
    {
        if (store.ImplementationInstance is { } instance)
        {
            return ServiceDescriptor.KeyedSingleton(typeof(IViewStore), StoreKey, instance);
        }

        if (store.ImplementationFactory is { } factory)
        {
            return ServiceDescriptor.KeyedSingleton(typeof(IViewStore), StoreKey, (provider, _) => factory(provider));
        }

        return ServiceDescriptor.KeyedSingleton(typeof(IViewStore), StoreKey, store.ImplementationType!);
    }
}
