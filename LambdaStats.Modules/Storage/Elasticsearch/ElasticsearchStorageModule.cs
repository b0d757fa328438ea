using Elastic.Clients.Elasticsearch;
using Elastic.Transport;
using LambdaStats.Modules.View.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LambdaStats.Modules.Storage.Elasticsearch;

public static class ElasticsearchStorageModule
{
    /// <summary>
    /// Registers the Elasticsearch view store in place of the view store registered before it
    /// (SQLite's), so the rest of the process uses it through <see cref="IViewStore"/> unchanged.
    /// Call it before <c>AddViewCache</c>, which wraps the registered view store. The indices are
    /// created when the host starts; an unreachable cluster or a rejected request stops the start.
    /// </summary>
    /// <param name="options">Settings already checked by <see cref="ViewStorageOptions.Read"/>.</param>
    public static IServiceCollection AddElasticsearchViewStore(this IServiceCollection services, ElasticsearchViewStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var replaced = services.Where(descriptor => descriptor.ServiceType == typeof(IViewStore) && !descriptor.IsKeyedService).ToList();
        foreach (var descriptor in replaced)
        {
            services.Remove(descriptor);
        }

        services.AddSingleton(options);
        services.AddSingleton(provider => new ElasticsearchViewStore(
            new ElasticsearchClient(CreateSettings(options)),
            new ViewIndices(options.IndexPrefix),
            provider.GetRequiredService<TimeProvider>(),
            provider.GetRequiredService<ILogger<ElasticsearchViewStore>>()));
        services.AddSingleton<IViewStore>(provider => provider.GetRequiredService<ElasticsearchViewStore>());

        // Hosted services start in the order of their registration. The speed layer's rebuild
        // reads the frontiers as soon as its service starts, so the setup goes first: a cluster
        // that cannot be reached then stops the start with the setting to check, before the
        // rebuild fails on it.
        var setup = ServiceDescriptor.Singleton<IHostedService, IndexSetup>();
        var firstHostedService = services.ToList().FindIndex(descriptor => descriptor.ServiceType == typeof(IHostedService));
        services.Insert(firstHostedService < 0 ? services.Count : firstHostedService, setup);
        return services;
    }

    /// <summary>Returns the client settings of <paramref name="options"/>: one node, and an API key or basic authentication when set.</summary>
    internal static ElasticsearchClientSettings CreateSettings(ElasticsearchViewStoreOptions options)
    {
        var settings = new ElasticsearchClientSettings(options.ResolveUrl());
        if (!string.IsNullOrEmpty(options.ApiKey))
        {
            settings.Authentication(new ApiKey(options.ApiKey));
        }
        else if (!string.IsNullOrEmpty(options.Username))
        {
            settings.Authentication(new BasicAuthentication(options.Username, options.Password ?? string.Empty));
        }

        return settings;
    }

    /// <summary>Names the kind of authentication for the start log, without the credentials.</summary>
    private static string DescribeAuthentication(ElasticsearchViewStoreOptions options) =>
        !string.IsNullOrEmpty(options.ApiKey) ? "API key"
        : !string.IsNullOrEmpty(options.Username) ? $"basic, user {options.Username}"
        : "none";

    /// <summary>Creates the indices of the views at host start, so a cluster that cannot be reached stops the start with the setting to check.</summary>
    private sealed class IndexSetup(ElasticsearchViewStore store, ElasticsearchViewStoreOptions options, ILogger<ElasticsearchViewStore> logger) : IHostedService
    {
        public async Task StartAsync(CancellationToken cancellationToken)
        {
            var url = options.ResolveUrl();
            ElasticsearchViewStoreLog.UsingElasticsearch(logger, url, store.Indices.Hours, store.Indices.Days, store.Indices.Frontiers, DescribeAuthentication(options));
            try
            {
                await store.EnsureIndicesAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (ElasticsearchViewStoreException exception)
            {
                throw new InvalidOperationException(
                    $"Storage:Views is Elasticsearch, but the view indices could not be checked or created at Storage:Elasticsearch:Url ({url}); start the cluster or correct the settings.",
                    exception);
            }
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
