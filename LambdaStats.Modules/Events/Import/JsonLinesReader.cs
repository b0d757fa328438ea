using System.Text.Json;

namespace LambdaStats.Modules.Events.Import;

/// <summary>
/// The outcome of one JSON Lines line: a JSON value, a reason to skip the line, or an error.
/// Exactly one of <see cref="Element"/>, <see cref="SkipReason"/> and <see cref="Error"/> is set.
/// </summary>
public readonly record struct JsonLine(long LineNumber, JsonElement? Element, string? SkipReason, string? Error);

/// <summary>
/// Reads JSON Lines files of the event schema, one JSON value per line. It only checks that
/// each line is JSON: the values go to <see cref="Contracts.IEventIngestor.IngestAsync"/>, which
/// validates them as events.
/// </summary>
public static class JsonLinesReader
{
    public const string BlankLineReason = "blank line";

    /// <summary>Parses one line. Lines of only whitespace are skipped with <see cref="BlankLineReason"/>.</summary>
    public static JsonLine ParseLine(ImportLine line)
    {
        if (string.IsNullOrWhiteSpace(line.Text))
        {
            return new JsonLine(line.Number, null, BlankLineReason, null);
        }

        try
        {
            // Deserialize<JsonElement> returns an element that owns its memory, so it stays
            // valid after this call without a JsonDocument to dispose.
            var element = JsonSerializer.Deserialize<JsonElement>(line.Text);
            return new JsonLine(line.Number, element, null, null);
        }
        catch (JsonException exception)
        {
            return new JsonLine(line.Number, null, null, $"invalid JSON at line {line.Number}: {exception.Message}");
        }
    }

    /// <summary>Parses every line of <paramref name="lines"/> in order.</summary>
    public static async IAsyncEnumerable<JsonLine> ReadAsync(
        IAsyncEnumerable<ImportLine> lines,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var line in lines.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            yield return ParseLine(line);
        }
    }
}
