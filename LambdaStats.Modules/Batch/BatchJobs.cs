using Hangfire;
using LambdaStats.Modules.Batch.Contracts;
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

    [DisableConcurrentExecution(timeoutInSeconds: 600)]
    [AutomaticRetry(Attempts = 5)]
    public async Task RunHourlyAsync(CancellationToken cancellationToken) =>
        ThrowIfFailed(await mediator.Send(new RunHourlyBatch(), cancellationToken).ConfigureAwait(false));

    [DisableConcurrentExecution(timeoutInSeconds: 600)]
    [AutomaticRetry(Attempts = 5)]
    public async Task RunDailyAsync(CancellationToken cancellationToken) =>
        ThrowIfFailed(await mediator.Send(new RunDailyBatch(), cancellationToken).ConfigureAwait(false));

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
