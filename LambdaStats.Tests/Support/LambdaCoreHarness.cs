using LambdaStats.Modules;
using LambdaStats.Modules.Batch.Contracts;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.Speed;
using LambdaStats.Modules.View;
using LambdaStats.Modules.View.Contracts;
using Mediator;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace LambdaStats.Tests.Support;

/// <summary>
/// The modules of one process, wired as the host wires them, over stores that outlive it so a
/// test can "restart" by building a new harness on the same stores.
/// </summary>
internal sealed class LambdaCoreHarness : IAsyncDisposable
{
    private readonly ServiceProvider provider;

    public LambdaCoreHarness(IEventStore events, IViewStore views, FakeTimeProvider clock, Action<IServiceCollection>? configure = null, IConfiguration? configuration = null)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<TimeProvider>(clock);
        services.AddLambdaStatsModules(configuration ?? TestConfiguration.Shipped);
        services.AddSingleton(events);
        services.AddSingleton(views);
        configure?.Invoke(services);
        services.AddViewCache(configuration ?? TestConfiguration.Shipped);
        provider = services.BuildServiceProvider();
        Clock = clock;
    }

    public FakeTimeProvider Clock { get; }

    public IServiceProvider Services => provider;

    public IEventIngestor Ingestor => provider.GetRequiredService<IEventIngestor>();

    public IAggregationQueries Queries => provider.GetRequiredService<IAggregationQueries>();

    internal SpeedLayer Speed => provider.GetRequiredService<SpeedLayer>();

    /// <summary>Rebuilds the speed layer from the stores, as the host does before it serves.</summary>
    public Task StartAsync() => provider.GetRequiredService<SpeedRebuilder>().RebuildAsync(CancellationToken.None);

    public Task<IngestionResult> IngestAsync(params LambdaEvent[] events) =>
        Ingestor.IngestValidatedAsync(events, CancellationToken.None);

    public async Task<BatchRunSummary> RunHourlyAsync() =>
        await provider.GetRequiredService<IMediator>().Send(new RunHourlyBatch());

    public async Task<BatchRunSummary> SendAsync(ICommand<BatchRunSummary> command) =>
        await provider.GetRequiredService<IMediator>().Send(command);

    public async Task<BatchRunSummary> RunDailyAsync() =>
        await provider.GetRequiredService<IMediator>().Send(new RunDailyBatch());

    public Task<AggregationResult> QueryAsync(string aggregation, string hubId, DateTimeOffset from, DateTimeOffset to, string? groupBy = null, IReadOnlyDictionary<string, string>? filters = null, int limit = 100, TimeZoneInfo? zone = null, SeriesBucket? bucket = null) =>
        Queries.QueryAsync(new AggregationQuery(aggregation, hubId, filters ?? new Dictionary<string, string>(), from, to, groupBy, limit, zone, bucket), CancellationToken.None);

    public ValueTask DisposeAsync() => provider.DisposeAsync();
}

internal static class TestConfiguration
{
    /// <summary>The appsettings.json shipped with the service, as copied beside the test assembly.</summary>
    public static IConfiguration Shipped { get; } = new ConfigurationBuilder()
        .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: false)
        .Build();

    /// <summary>The shipped configuration with the given settings on top.</summary>
    public static IConfiguration With(params (string Key, string Value)[] settings) => new ConfigurationBuilder()
        .AddConfiguration(Shipped)
        .AddInMemoryCollection(settings.Select(setting => KeyValuePair.Create(setting.Key, (string?)setting.Value)))
        .Build();

    /// <summary>The shipped configuration with <c>Batch:ReadHourPerEventType</c> set.</summary>
    public static IConfiguration WithReadHourPerEventType(bool value) => new ConfigurationBuilder()
        .AddConfiguration(Shipped)
        .AddInMemoryCollection(new Dictionary<string, string?> { ["Batch:ReadHourPerEventType"] = value ? "true" : "false" })
        .Build();

    /// <summary>The shipped configuration plus <c>opensByHub</c>, a count of MediaOpened events per hub, the second aggregation of that type.</summary>
    public static IConfiguration WithOpensByHub() => new ConfigurationBuilder()
        .AddConfiguration(Shipped)
        .AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Aggregations:11:name"] = "opensByHub",
            ["Aggregations:11:eventType"] = "MediaOpened",
            ["Aggregations:11:key:0"] = "hubId",
            ["Aggregations:11:outputs:0:name"] = "opens",
            ["Aggregations:11:outputs:0:aggregator"] = "count",
        })
        .Build();
}
