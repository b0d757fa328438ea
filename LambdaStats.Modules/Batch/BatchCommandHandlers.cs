using LambdaStats.Modules.Batch.Contracts;
using Mediator;

namespace LambdaStats.Modules.Batch;

internal sealed class BatchCommandHandlers(BatchRunner runner) :
    ICommandHandler<RunHourlyBatch, BatchRunSummary>,
    ICommandHandler<RunDailyBatch, BatchRunSummary>
{
    public async ValueTask<BatchRunSummary> Handle(RunHourlyBatch command, CancellationToken cancellationToken) =>
        await runner.RunHourlyAsync(cancellationToken).ConfigureAwait(false);

    public async ValueTask<BatchRunSummary> Handle(RunDailyBatch command, CancellationToken cancellationToken) =>
        await runner.RunDailyAsync(cancellationToken).ConfigureAwait(false);
}
