using LambdaStats.Modules.Batch.Contracts;
using Mediator;

namespace LambdaStats.Modules.Batch;

internal sealed class BatchCommandHandlers(BatchRunner runner) :
    ICommandHandler<RunHourlyBatch, BatchRunSummary>,
    ICommandHandler<RunDailyBatch, BatchRunSummary>,
    ICommandHandler<RecomputeHours, BatchRunSummary>,
    ICommandHandler<BackfillStep, BatchRunSummary>
{
    public async ValueTask<BatchRunSummary> Handle(RunHourlyBatch command, CancellationToken cancellationToken) =>
        await runner.RunHourlyAsync(cancellationToken).ConfigureAwait(false);

    public async ValueTask<BatchRunSummary> Handle(RunDailyBatch command, CancellationToken cancellationToken) =>
        await runner.RunDailyAsync(cancellationToken).ConfigureAwait(false);

    public async ValueTask<BatchRunSummary> Handle(RecomputeHours command, CancellationToken cancellationToken) =>
        await runner.RunAsync(new BatchRunRequest(command.Aggregation, null, command.From, command.To), cancellationToken).ConfigureAwait(false);

    public async ValueTask<BatchRunSummary> Handle(BackfillStep command, CancellationToken cancellationToken) =>
        await runner.RunAsync(new BatchRunRequest(command.Aggregation, command.Cap, null, null), cancellationToken).ConfigureAwait(false);
}
