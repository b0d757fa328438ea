using Mediator;

namespace LambdaStats.Modules.Events.Contracts;

/// <summary>
/// Published once per append, inside the ingestion gate, with the events that were newly stored.
/// Duplicates never appear here, so a consumer can count every event it receives.
/// </summary>
public sealed record EventsStored(IReadOnlyList<LambdaEvent> Events) : INotification;
