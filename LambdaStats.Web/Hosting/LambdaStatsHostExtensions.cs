using Hangfire;
using Hangfire.InMemory;
using Hangfire.Redis.StackExchange;
using LambdaStats.Modules;
using LambdaStats.Modules.Events;
using LambdaStats.Modules.Storage.Elasticsearch;
using LambdaStats.Modules.Storage.MongoDb;
using LambdaStats.Modules.Storage.Sqlite;
using LambdaStats.Modules.View;
using LambdaStats.Web.Endpoints;
using MassTransit;
using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.FileProviders;

namespace LambdaStats.Web.Hosting;

/// <summary>The composition root: every module, adapter and framework service of the process.</summary>
public static partial class LambdaStatsHostExtensions
{
    /// <summary>Log category of ASP.NET Core's health check service, which logs the result of every check it runs.</summary>
    private const string HealthCheckServiceCategory = "Microsoft.Extensions.Diagnostics.HealthChecks.DefaultHealthCheckService";

    public static WebApplicationBuilder AddLambdaStats(this WebApplicationBuilder builder)
    {
        AddShippedSettings(builder.Configuration, builder.Environment.ContentRootPath, AppContext.BaseDirectory);
        var configuration = builder.Configuration;
        var hosting = configuration.GetSection(HostingOptions.SectionName).Get<HostingOptions>() ?? new HostingOptions();
        var busOptions = BusOptions.Read(configuration);
        var jobStorage = JobStorageOptions.Read(configuration);
        var eventStore = EventStoreOptions.Read(configuration);
        var viewStorage = ViewStorageOptions.Read(configuration);

        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<StoreUnavailableHandler>();
        builder.Services.AddLambdaStatsModules(configuration);
        if (eventStore == EventStoreKind.MongoDb)
        {
            builder.Services.AddSqliteViewStore(configuration);
            builder.Services.AddMongoEventStore(configuration);
        }
        else
        {
            builder.Services.AddSqliteStorage(configuration);
        }

        if (viewStorage.Views == ViewStoreKind.Elasticsearch)
        {
            // Replaces the SQLite view store registered above; the events stay where they are.
            builder.Services.AddElasticsearchViewStore(viewStorage.Elasticsearch);
        }

        builder.Services.AddViewCache(configuration);

        builder.Services.AddMassTransit(bus =>
        {
            // MassTransit 8.5 reports usage to its vendor over the Internet unless told not to.
            bus.DisableUsageTelemetry();
            bus.SetKebabCaseEndpointNameFormatter();
            bus.AddEventConsumers();
            if (busOptions.Transport == BusTransport.RabbitMq)
            {
                bus.UsingRabbitMq((context, transport) => ConfigureRabbitMq(context, transport, busOptions.RabbitMq));
            }
            else
            {
                bus.UsingInMemory((context, transport) => transport.ConfigureEventEndpoints(context, queuePrefix: string.Empty));
            }
        });

        builder.Services.AddHangfire(hangfire =>
        {
            hangfire
                .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
                .UseSimpleAssemblyNameTypeSerializer()
                .UseRecommendedSerializerSettings();
            if (jobStorage.Storage == JobStorageKind.Redis)
            {
                try
                {
                    hangfire.UseRedisStorage(jobStorage.Redis.Configuration, new RedisStorageOptions { Prefix = jobStorage.Redis.Prefix });
                }
                catch (StackExchange.Redis.RedisConnectionException exception)
                {
                    // The configuration string can contain a password, so the message leaves it out.
                    throw new InvalidOperationException("Jobs:Storage is Redis, but no Redis server responded at the address of Jobs:Redis:Configuration; start it or correct the setting.", exception);
                }
            }
            else
            {
                hangfire.UseInMemoryStorage(new InMemoryStorageOptions());
            }
        });
        if (hosting.RunJobServer)
        {
            builder.Services.AddHangfireServer(server =>
            {
                server.ShutdownTimeout = hosting.JobServerShutdownTimeout;
                server.WorkerCount = 2;
            });
        }

        builder.Services.AddSingleton<SpeedLayerReadyCheck>();
        builder.Services.AddHealthChecks()
            .AddCheck<SpeedLayerReadyCheck>("speed-layer", tags: ["ready"])
            .AddCheck<EventStoreReadyCheck>("event-store", tags: ["ready"], timeout: TimeSpan.FromSeconds(5));

        // The health check service logs a warning for every probe that finds a Degraded check,
        // so a long startup rebuild wrote one per probe. SpeedLayerReadyCheck logs each change of
        // status instead. Errors still pass. The rule comes before those read from the
        // configuration, so a level that the configuration sets for this category wins.
        // NOTE: a Degraded result of MassTransit's bus check, which /health/ready also runs, is
        // no longer logged at all, and only an Unhealthy bus is.
        builder.Services.Configure<LoggerFilterOptions>(options =>
            options.Rules.Insert(0, new LoggerFilterRule(null, HealthCheckServiceCategory, LogLevel.Error, null)));
        return builder;
    }

    public static WebApplication MapLambdaStats(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapEventEndpoints();
        app.MapAggregationEndpoints();
        app.MapAdminEndpoints();
        app.MapHealthEndpoints();

        // The dashboard ships in English and French: Hangfire's own translations follow the
        // request's Accept-Language header.
        app.UseRequestLocalization(options =>
        {
            string[] cultures = ["en", "fr"];
            options.SetDefaultCulture(cultures[0]).AddSupportedCultures(cultures).AddSupportedUICultures(cultures);
        });
        app.UseHangfireDashboard("/hangfire", new DashboardOptions { DashboardTitle = "LambdaStats" });
        return app;
    }

    /// <remarks>
    /// Two queues: one of MassTransit's <c>RecordAudienceEvent</c> messages, and one of plain JSON
    /// bodies for producers without MassTransit (see <see cref="EventsModule.ConfigureEventEndpoints"/>).
    /// A message that fails goes to its queue's <c>_error</c> queue.
    /// </remarks>
    private static void ConfigureRabbitMq(IBusRegistrationContext context, IRabbitMqBusFactoryConfigurator transport, RabbitMqOptions rabbit)
    {
        var logger = context.GetRequiredService<ILoggerFactory>().CreateLogger("LambdaStats.Web.Hosting.Bus");
        Log.UsingRabbitMq(logger, rabbit.Host, rabbit.Port, rabbit.VirtualHost, rabbit.Username, rabbit.PrefetchCount, rabbit.QueuePrefix);
        transport.Host(rabbit.Host, (ushort)rabbit.Port, rabbit.VirtualHost, host =>
        {
            host.Username(rabbit.Username);
            host.Password(rabbit.Password);
            host.MaxMessageSize(EventsModule.MaxReceivedMessageBytes);
        });
        transport.PrefetchCount = rabbit.PrefetchCount;
        transport.ConfigureEventEndpoints(context, rabbit.QueuePrefix);
    }

    /// <summary>
    /// Adds the appsettings.json shipped beside the executable when the content root has none, so
    /// the aggregation catalogue is there whatever the working directory. Environment variables
    /// and the command line still override it.
    /// </summary>
    /// <remarks>
    /// The two files are never combined: configuration merges arrays entry by entry, so a
    /// catalogue in the content root would take the settings of the shipped aggregations at the
    /// same positions, and keep those past its own end.
    /// </remarks>
    internal static void AddShippedSettings(IConfigurationBuilder configuration, string contentRoot, string baseDirectory)
    {
        if (!File.Exists(Path.Combine(baseDirectory, "appsettings.json")) || File.Exists(Path.Combine(contentRoot, "appsettings.json")))
        {
            return;
        }

        var source = new JsonConfigurationSource
        {
            Path = "appsettings.json",
            Optional = true,
            ReloadOnChange = false,
            FileProvider = new PhysicalFileProvider(baseDirectory),
        };
        configuration.Sources.Insert(0, source);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1020, Level = LogLevel.Information, Message = "Bus: RabbitMQ at {Host}:{Port}, virtual host {VirtualHost}, user {Username}, prefetch {PrefetchCount}, queue prefix '{QueuePrefix}'; MassTransit retries the connection until the broker answers")]
        public static partial void UsingRabbitMq(ILogger logger, string host, int port, string virtualHost, string username, int prefetchCount, string queuePrefix);
    }
}
