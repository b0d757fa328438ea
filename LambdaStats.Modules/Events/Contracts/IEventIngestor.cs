using System.Text.Json;

namespace LambdaStats.Modules.Events.Contracts;

/// <summary>The ingestion pipeline shared by the HTTP endpoint, the message bus and the importer.</summary>
public interface IEventIngestor
{
    /// <summary>
    /// Validates each JSON event, stores the valid ones idempotently and hands the newly stored ones
    /// to the speed layer. Invalid events are returned with their index and reason; they never
    /// stop the valid ones.
    /// </summary>
    Task<IngestionResult> IngestAsync(IReadOnlyList<JsonElement> events, CancellationToken cancellationToken);

    /// <summary>Stores already validated events, as <see cref="IngestAsync"/> does after validation.</summary>
    Task<IngestionResult> IngestValidatedAsync(IReadOnlyList<LambdaEvent> events, CancellationToken cancellationToken);
}

/// <summary>Outcome of one ingestion call.</summary>
public sealed record IngestionResult(int Accepted, int Duplicates, IReadOnlyList<RejectedEvent> Rejected);

/// <summary>An event that failed validation: its position in the input, its id when it had one, and why.</summary>
public sealed record RejectedEvent(int Index, string? Id, string Error);
