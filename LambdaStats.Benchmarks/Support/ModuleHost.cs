using LambdaStats.Modules;
using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Storage.Sqlite;
using LambdaStats.Modules.View;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LambdaStats.Benchmarks.Support;

/// <summary>
/// The modules wired as the service wires them, over SQLite files in one directory, without the
/// web host, bus or job server: the harnesses call the stores, the batch and the queries directly.
/// </summary>
internal sealed class ModuleHost : IAsyncDisposable
{
    private readonly ServiceProvider provider;

    /// <param name="logBatchRuns">Whether to log the batch runner's information messages (each run, each aggregation's commit and the heap compaction after a run) besides every warning.</param>
    /// <param name="settings">Configuration values that override the shipped appsettings.json, such as <c>Batch:ReadHourPerEventType</c>.</param>
    public ModuleHost(string dataDirectory, TimeProvider clock, bool logBatchRuns = false, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var overrides = new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>()) { ["Storage:DataDirectory"] = dataDirectory };
        var configuration = ShippedConfiguration(overrides);
        var services = new ServiceCollection();
        services.AddLogging(logging =>
        {
            logging.AddSimpleConsole(console =>
            {
                console.SingleLine = true;
                console.TimestampFormat = "HH:mm:ss.fff ";
                console.UseUtcTimestamp = true;
            }).SetMinimumLevel(LogLevel.Warning);
            if (logBatchRuns)
            {
                logging.AddFilter("LambdaStats.Modules.Batch.BatchRunner", LogLevel.Information);
            }
        });
        services.AddSingleton(clock);
        services.AddLambdaStatsModules(configuration);
        services.AddSqliteStorage(configuration);
        services.AddViewCache(configuration);
        provider = services.BuildServiceProvider();
    }

    public IServiceProvider Services => provider;

    public T Get<T>()
        where T : notnull => provider.GetRequiredService<T>();

    /// <summary>The catalogue of the shipped appsettings.json, without storage.</summary>
    public static AggregationCatalog ShippedCatalog()
    {
        var services = new ServiceCollection();
        services.AddAggregationModule(ShippedConfiguration(new Dictionary<string, string?>()));
        using var catalogProvider = services.BuildServiceProvider();
        return catalogProvider.GetRequiredService<AggregationCatalog>();
    }

    public ValueTask DisposeAsync() => provider.DisposeAsync();

    private static IConfiguration ShippedConfiguration(IReadOnlyDictionary<string, string?> overrides) =>
        new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: false)
            .AddInMemoryCollection(overrides)
            .Build();
}

/// <summary>A clock that the harness sets, so that a batch run closes the hour the harness chose.</summary>
internal sealed class ManualClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}
