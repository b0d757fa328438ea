using System.Text.Json;

namespace LambdaStats.Modules.Events.Contracts;

/// <summary>One validated audience event, as stored in the event store.</summary>
/// <remarks>Instances are not modified after validation, so both layers can share them.</remarks>
public sealed class LambdaEvent
{
    /// <summary>Globally unique id and idempotency key, 1 to 128 characters.</summary>
    public required string Id { get; init; }

    public required EventType Type { get; init; }

    /// <summary>Time of the action, always UTC (offset zero).</summary>
    public required DateTimeOffset OccurredAt { get; init; }

    public required string HubId { get; init; }

    public string? MediaId { get; init; }

    public string? VisitorId { get; init; }

    public string? SessionId { get; init; }

    /// <summary>Page number, 1 or more, for page events.</summary>
    public int? Page { get; init; }

    /// <summary>Seconds spent on a page or medium, 0 or more.</summary>
    public double? DurationSeconds { get; init; }

    public string? Network { get; init; }

    public string? ContactKind { get; init; }

    /// <summary>Free-form attributes kept in the store as they came.</summary>
    public JsonElement? Properties { get; init; }
}
