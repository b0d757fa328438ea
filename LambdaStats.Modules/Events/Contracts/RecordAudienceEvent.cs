using System.Text.Json;

namespace LambdaStats.Modules.Events.Contracts;

/// <summary>
/// Bus message carrying one event in the JSON shape of <c>POST /api/events</c>. The consumer
/// validates it with the same rules as HTTP; a rejected event goes to the error queue with the
/// reason.
/// </summary>
/// <param name="OccurredAt">ISO-8601 timestamp with an offset, as text, so that a missing offset can be rejected.</param>
public sealed record RecordAudienceEvent(
    string? Id,
    string? Type,
    string? OccurredAt,
    string? HubId,
    string? MediaId = null,
    string? VisitorId = null,
    string? SessionId = null,
    int? Page = null,
    double? DurationSeconds = null,
    string? Network = null,
    string? ContactKind = null,
    JsonElement? Properties = null);
