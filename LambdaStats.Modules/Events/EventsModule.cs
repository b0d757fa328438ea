using LambdaStats.Modules.Events.Bus;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.Events.Ingestion;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace LambdaStats.Modules.Events;

public static class EventsModule
{
    /// <summary>Registers the ingestion pipeline. The event store adapter is registered by the host.</summary>
    public static IServiceCollection AddEventsModule(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<IngestionOptions>()
            .Bind(configuration.GetSection(IngestionOptions.SectionName))
            .Validate(options => options.MaxFutureSkew >= TimeSpan.Zero, "Ingestion:MaxFutureSkew must not be negative.")
            .Validate(options => options.MaxFutureSkew <= IngestionOptions.LongestFutureSkew, "Ingestion:MaxFutureSkew must be 365 days or less.")
            .Validate(options => options.MaxLateness is null || options.MaxLateness > TimeSpan.Zero, "Ingestion:MaxLateness must be positive when set.")
            .Validate(options => options.MaxLateness is null || options.MaxLateness <= IngestionOptions.LongestLateness, "Ingestion:MaxLateness must be 36500 days (about 100 years) or less; leave it unset for no limit.")
            .ValidateOnStart();
        services.AddSingleton<IngestionGate>();
        services.AddSingleton<IEventIngestor, EventIngestor>();
        services.AddSingleton<BusEventBatcher>();
        services.AddHostedService(provider => provider.GetRequiredService<BusEventBatcher>());
        return services;
    }

    /// <summary>Adds the event consumer to a MassTransit configuration; rejected events are not retried.</summary>
    public static void AddEventConsumers(this IBusRegistrationConfigurator bus)
    {
        bus.AddConsumer<RecordAudienceEventConsumer>(consumer =>
            consumer.UseMessageRetry(retry =>
            {
                retry.Ignore<EventRejectedException>();
                retry.Exponential(5, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(200));
            }));
    }
}
