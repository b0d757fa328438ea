using System.Text.Json;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.Events.Import;

namespace LambdaStats.Web.Cli;

/// <summary>Where the import command sends events: a running service over HTTP, or the local ingestion pipeline.</summary>
public interface IImportTarget
{
    /// <summary>
    /// Sends one batch and returns how the target counted it. Rejections carry the line numbers of
    /// the batch's records.
    /// </summary>
    /// <exception cref="ImportTargetException">The target failed, so the import must stop.</exception>
    Task<ImportBatchResult> SendAsync(IReadOnlyList<ImportRecord> batch, CancellationToken cancellationToken);
}

/// <summary>
/// One event to import with the line it came from: a mapped <see cref="LambdaEvent"/> from an
/// access log, or a JSON value from a JSON Lines file that the target still has to validate.
/// </summary>
public sealed class ImportRecord
{
    private ImportRecord(long lineNumber, LambdaEvent? validated, JsonElement? json)
    {
        LineNumber = lineNumber;
        Validated = validated;
        Json = json;
    }

    public long LineNumber { get; }

    /// <summary>The validated event, or null when <see cref="Json"/> is set.</summary>
    public LambdaEvent? Validated { get; }

    /// <summary>The unvalidated JSON value, or null when <see cref="Validated"/> is set.</summary>
    public JsonElement? Json { get; }

    public static ImportRecord FromEvent(long lineNumber, LambdaEvent validated) => new(lineNumber, validated, null);

    public static ImportRecord FromJson(long lineNumber, JsonElement json) => new(lineNumber, null, json);
}

/// <summary>How a target counted one batch. Accepted + duplicates + rejected equals the batch size.</summary>
public sealed record ImportBatchResult(int Accepted, int Duplicates, IReadOnlyList<ImportRejection> Rejected);

/// <summary>A target failure that stops the import, such as an unreachable service or a failed store.</summary>
public sealed class ImportTargetException : Exception
{
    public ImportTargetException(string message)
        : base(message)
    {
    }

    public ImportTargetException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
