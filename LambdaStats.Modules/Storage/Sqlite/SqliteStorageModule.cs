using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.View.Contracts;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace LambdaStats.Modules.Storage.Sqlite;

public static class SqliteStorageModule
{
    /// <summary>
    /// Registers the SQLite event store and view store as singletons, configured from the
    /// <c>Storage</c> section. Both open their files when the host starts, so a missing or
    /// unwritable data directory stops the startup with a message naming the path.
    /// </summary>
    public static IServiceCollection AddSqliteStorage(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSqliteViewStore(configuration);
        services.AddSingleton<IEventStore, SqliteEventStore>();
        return services;
    }

    /// <summary>
    /// Registers the SQLite view store alone, for a process whose events are in another store,
    /// which the caller registers as <see cref="IEventStore"/>. The host start opens both stores.
    /// </summary>
    public static IServiceCollection AddSqliteViewStore(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<SqliteStorageOptions>().Bind(configuration.GetSection(SqliteStorageOptions.SectionName));
        services.AddSingleton<IViewStore, SqliteViewStore>();
        services.AddHostedService<SqliteStorageOpener>();
        return services;
    }

    /// <summary>Resolves both stores at host start, which opens their files or connects, and creates their schemas.</summary>
    private sealed class SqliteStorageOpener(IServiceProvider services) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            services.GetRequiredService<IEventStore>();
            services.GetRequiredService<IViewStore>();
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
