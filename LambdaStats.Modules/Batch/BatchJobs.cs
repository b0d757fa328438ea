using Hangfire;
using LambdaStats.Modules.Batch.Contracts;
using LambdaStats.Modules.Common;
using Mediator;

namespace LambdaStats.Modules.Batch;

/// <summary>
/// Hangfire entry points. They only send the mediator command and turn a run with failed
/// aggregations into an exception, so that Hangfire records the failure and retries the job.
/// </summary>
public sealed class BatchJobs(IMediator mediator)
{
    public const string HourlyJobId = "hourly-batch";
    public const string DailyJobId = "daily-views";

    [BatchJobName("Hourly batch", "Batch horaire")]
    [DisableConcurrentExecution(timeoutInSeconds: 600)]
    [AutomaticRetry(Attempts = 5)]
    public async Task RunHourlyAsync(CancellationToken cancellationToken) =>
        ThrowIfFailed(await mediator.Send(new RunHourlyBatch(), cancellationToken).ConfigureAwait(false));

    [BatchJobName("Daily views", "Vues quotidiennes")]
    [DisableConcurrentExecution(timeoutInSeconds: 600)]
    [AutomaticRetry(Attempts = 5)]
    public async Task RunDailyAsync(CancellationToken cancellationToken) =>
        ThrowIfFailed(await mediator.Send(new RunDailyBatch(), cancellationToken).ConfigureAwait(false));

    /// <summary>One chunk of an operator's recompute; the dashboard shows the chunks done and left.</summary>
    [BatchJobName("Recompute {0}, hours {1} to {2}, end excluded (step {3} of {4})", "Recalcul de {0}, heures de {1} à {2}, fin exclue (étape {3} sur {4})")]
    [AutomaticRetry(Attempts = 5)]
    public async Task RecomputeAsync(string? aggregation, DateTimeOffset from, DateTimeOffset to, int chunk, int chunks, CancellationToken cancellationToken) =>
        ThrowIfFailed(await mediator.Send(new RecomputeHours(aggregation, UtcHour.StartingAt(from), UtcHour.StartingAt(to)), cancellationToken).ConfigureAwait(false));

    /// <summary>One step of a new aggregation's backfill; the dashboard shows the steps done and left.</summary>
    [BatchJobName("Backfill {0} up to {1} (step {2} of {3})", "Rattrapage de {0} jusqu'à {1} (étape {2} sur {3})")]
    [AutomaticRetry(Attempts = 5)]
    public async Task BackfillAsync(string aggregation, DateTimeOffset cap, int step, int steps, CancellationToken cancellationToken) =>
        ThrowIfFailed(await mediator.Send(new BackfillStep(aggregation, UtcHour.StartingAt(cap)), cancellationToken).ConfigureAwait(false));

    private static void ThrowIfFailed(BatchRunSummary summary)
    {
        var failures = summary.Aggregations.Where(a => a.Error is not null).ToList();
        if (failures.Count > 0)
        {
            throw new BatchRunFailedException(
                "Batch failed for " + string.Join("; ", failures.Select(f => $"{f.Aggregation}: {f.Error}")));
        }
    }
}

/// <summary>A batch run in which at least one aggregation failed; the others were committed.</summary>
public sealed class BatchRunFailedException(string message) : Exception(message);
