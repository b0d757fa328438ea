namespace LambdaStats.Modules.Events.Contracts;

/// <summary>
/// Message type of the plain JSON queue, for producers without MassTransit. It has no members:
/// the consumer reads the message body as sent, one event in the JSON shape of
/// <c>POST /api/events</c>, and validates it with the rules of that endpoint.
/// </summary>
public sealed class AudienceEventJson;
