using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.Events.Import;

namespace LambdaStats.Web.Cli;

/// <summary>
/// Sends batches into this process's ingestion pipeline. Mapped access log events go to
/// <see cref="IEventIngestor.IngestValidatedAsync"/>, and JSON values to
/// <see cref="IEventIngestor.IngestAsync"/>, which validates them.
/// </summary>
/// <remarks>
/// <see cref="IEventIngestor.IngestValidatedAsync"/> applies no time checks, so access log events
/// are stored even when <c>Ingestion:MaxLateness</c> would reject them over HTTP.
/// </remarks>
public sealed class LocalImportTarget(IEventIngestor ingestor) : IImportTarget
{
    public async Task<ImportBatchResult> SendAsync(IReadOnlyList<ImportRecord> batch, CancellationToken cancellationToken)
    {
        var accepted = 0;
        var duplicates = 0;
        var rejected = new List<ImportRejection>();

        // A file has one format, so a batch is normally one run of one kind. Runs keep the
        // batch order when kinds alternate.
        var start = 0;
        while (start < batch.Count)
        {
            var isValidated = batch[start].Validated is not null;
            var end = start + 1;
            while (end < batch.Count && (batch[end].Validated is not null) == isValidated)
            {
                end++;
            }

            var run = new ImportRecord[end - start];
            for (var i = start; i < end; i++)
            {
                run[i - start] = batch[i];
            }

            var result = await IngestAsync(run, isValidated, cancellationToken).ConfigureAwait(false);
            accepted += result.Accepted;
            duplicates += result.Duplicates;
            foreach (var rejection in result.Rejected)
            {
                rejected.Add(new ImportRejection(run[rejection.Index].LineNumber, rejection.Error));
            }

            start = end;
        }

        return new ImportBatchResult(accepted, duplicates, rejected);
    }

    private async Task<IngestionResult> IngestAsync(ImportRecord[] run, bool isValidated, CancellationToken cancellationToken)
    {
        try
        {
            if (isValidated)
            {
                var events = Array.ConvertAll(run, record => record.Validated!);
                return await ingestor.IngestValidatedAsync(events, cancellationToken).ConfigureAwait(false);
            }

            var json = Array.ConvertAll(run, record => record.Json!.Value);
            return await ingestor.IngestAsync(json, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // The store can fail in many ways (database, disk, a bug). Any of them stops the
            // import, and the command reports and logs the inner exception.
            throw new ImportTargetException(
                $"The local ingestion pipeline failed for lines {run[0].LineNumber} to {run[^1].LineNumber}: {exception.Message}",
                exception);
        }
    }
}
