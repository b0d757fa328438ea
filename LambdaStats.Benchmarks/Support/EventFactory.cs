using LambdaStats.Modules.Events.Contracts;

namespace LambdaStats.Benchmarks.Support;

/// <summary>Builds validated events directly, for harnesses that write the event store without HTTP.</summary>
internal static class EventFactory
{
    private static readonly string[] Networks = ["linkedin", "x", "email"];

    /// <param name="visitorId">The visitor of the event, or null for an anonymous one.</param>
    public static LambdaEvent Create(string id, EventType type, DateTimeOffset occurredAt, string hubId, string mediaId, Random random, string? visitorId = null) => type switch
    {
        EventType.HubVisited => new LambdaEvent { Id = id, Type = type, OccurredAt = occurredAt, HubId = hubId, VisitorId = visitorId },
        EventType.PageViewed => new LambdaEvent
        {
            Id = id,
            Type = type,
            OccurredAt = occurredAt,
            HubId = hubId,
            MediaId = mediaId,
            VisitorId = visitorId,
            Page = 1 + random.Next(40),
            DurationSeconds = random.Next(1, 6000) / 10.0,
        },
        EventType.MediaShared => new LambdaEvent { Id = id, Type = type, OccurredAt = occurredAt, HubId = hubId, MediaId = mediaId, VisitorId = visitorId, Network = Networks[random.Next(Networks.Length)] },
        _ => new LambdaEvent { Id = id, Type = type, OccurredAt = occurredAt, HubId = hubId, MediaId = mediaId, VisitorId = visitorId },
    };

    /// <summary>Picks a type with the shares of <see cref="EventMix"/>.</summary>
    public static EventType PickType(Random random) => Enum.Parse<EventType>(EventMix.Pick(random));
}
