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

    /// <summary>Name of the queue of <see cref="RecordAudienceEvent"/> messages from MassTransit producers, after the prefix.</summary>
    public const string EnvelopeQueueName = "record-audience-event";

    /// <summary>Name of the queue of plain JSON events from any producer, after the prefix.</summary>
    public const string JsonQueueName = "audience-event-json";

    /// <summary>Largest message, in bytes, that a RabbitMQ connection should receive; see <see cref="EventMessageLimits.MaxReceivedBytes"/>.</summary>
    public const uint MaxReceivedMessageBytes = EventMessageLimits.MaxReceivedBytes;

    /// <summary>Adds the event consumers to a MassTransit configuration; rejected events are not retried.</summary>
    public static void AddEventConsumers(this IBusRegistrationConfigurator bus)
    {
        bus.AddConsumer<RecordAudienceEventConsumer>(consumer => consumer.UseMessageRetry(RetryStoreFailures));
        bus.AddConsumer<AudienceEventJsonConsumer>(consumer => consumer.UseMessageRetry(RetryStoreFailures));
    }

    /// <summary>
    /// Declares the two receive endpoints of the event consumers, named <paramref name="queuePrefix"/>
    /// followed by <see cref="EnvelopeQueueName"/> and <see cref="JsonQueueName"/>.
    /// </summary>
    /// <remarks>
    /// The plain JSON endpoint reads every body as JSON, whatever its content type, and binds no
    /// exchange: producers send to the queue itself. Its consumer validates the body as sent,
    /// because a body first bound to <see cref="RecordAudienceEvent"/> would accept field names in
    /// any letter case and fail on a wrong type with the serializer's text, where HTTP names the
    /// field and the rule.
    /// </remarks>
    public static void ConfigureEventEndpoints(this IReceiveConfigurator transport, IBusRegistrationContext context, string queuePrefix)
    {
        transport.ReceiveEndpoint(queuePrefix + EnvelopeQueueName, endpoint => endpoint.ConfigureConsumer<RecordAudienceEventConsumer>(context));
        transport.ReceiveEndpoint(queuePrefix + JsonQueueName, endpoint =>
        {
            endpoint.ConfigureConsumeTopology = false;

            // Without the envelope deserializer, a body sent with MassTransit's content type is
            // read as plain JSON too. The raw serializer also covers what the endpoint sends.
            endpoint.ClearSerialization();
            endpoint.UseRawJsonSerializer(RawSerializerOptions.AnyMessageType, isDefault: true);
            endpoint.ConfigureConsumer<AudienceEventJsonConsumer>(context);
        });
    }

    private static void RetryStoreFailures(IRetryConfigurator retry)
    {
        retry.Ignore<EventRejectedException>();
        retry.Exponential(5, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(200));
    }
}
