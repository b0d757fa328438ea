using System.Text.Json;
using System.Threading.Channels;
using LambdaStats.Modules.Events.Contracts;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LambdaStats.Modules.Events.Bus;

/// <summary>
/// Stores the events of bus messages consumed at the same time with one ingestion call, so that
/// they share one store transaction (a group commit), and returns each message's own outcome.
/// </summary>
/// <remarks>
/// A message's event waits only while the store is busy: the loop takes every event queued since
/// its last call, up to <see cref="MaxEventsPerCall"/>, and stores them at once. So an idle service
/// stores a lone message at once, and the concurrent messages that the transport delivers (up to
/// its prefetch count) share a transaction. A message is acknowledged only after its event is
/// stored, so a stop or a failed call leaves it on the broker for redelivery, and the store drops
/// the repeated id.
/// </remarks>
internal sealed partial class BusEventBatcher(IEventIngestor ingestor, ILogger<BusEventBatcher> logger) : BackgroundService
{
    public const int MaxEventsPerCall = 1_000;

    private readonly Channel<PendingEvent> queue = Channel.CreateUnbounded<PendingEvent>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>Queues <paramref name="element"/> for the next ingestion call and waits for its outcome.</summary>
    /// <returns>Null when the event was stored or was a duplicate; the reason when it failed validation.</returns>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled first; the event may still be stored.</exception>
    public async Task<string?> IngestAsync(JsonElement element, CancellationToken cancellationToken)
    {
        var pending = new PendingEvent(element, new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!queue.Writer.TryWrite(pending))
        {
            throw new InvalidOperationException("The bus event batcher has stopped; the message will be delivered again.");
        }

        return await pending.Outcome.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<PendingEvent>(MaxEventsPerCall);
        try
        {
            while (await queue.Reader.WaitToReadAsync(stoppingToken).ConfigureAwait(false))
            {
                while (batch.Count < MaxEventsPerCall && queue.Reader.TryRead(out var pending))
                {
                    batch.Add(pending);
                }

                await IngestBatchAsync(batch).ConfigureAwait(false);
                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The service stops: events queued now belong to messages that are not acknowledged,
            // so the broker delivers them again to the next start.
            queue.Writer.TryComplete();
            while (queue.Reader.TryRead(out var pending))
            {
                pending.Outcome.TrySetCanceled(stoppingToken);
            }
        }
    }

    private async Task IngestBatchAsync(List<PendingEvent> batch)
    {
        try
        {
            var elements = batch.Select(pending => pending.Element).ToArray();
            var result = await ingestor.IngestAsync(elements, CancellationToken.None).ConfigureAwait(false);
            var rejected = result.Rejected.ToDictionary(rejection => rejection.Index, rejection => rejection.Error);
            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Outcome.TrySetResult(rejected.GetValueOrDefault(i));
            }

            Log.BatchIngested(logger, batch.Count, result.Accepted, result.Duplicates, result.Rejected.Count);
        }
        catch (Exception exception)
        {
            // Each message's consumer rethrows it, so MassTransit retries the messages one by
            // one. The message becomes the fault header of a message in the error queue, and a
            // store's own message can run to many lines: the MongoDB driver describes the whole
            // cluster. So the consumers get its first line, and the log keeps the whole exception.
            Log.BatchFailed(logger, exception, batch.Count);
            var failure = new InvalidOperationException(
                $"Failed to store the event ({exception.GetType().Name}: {FirstLine(exception.Message)}). Send the message again once the event store is back; a stored event is then reported as a duplicate.",
                exception);
            foreach (var pending in batch)
            {
                pending.Outcome.TrySetException(failure);
            }
        }
    }

    private static string FirstLine(string message)
    {
        var line = message.Split('\n', 2)[0].TrimEnd('\r', '.');
        return line.Length <= 200 ? line : line[..200] + "...";
    }

    private sealed record PendingEvent(JsonElement Element, TaskCompletionSource<string?> Outcome);

    private static partial class Log
    {
        [LoggerMessage(EventId = 1011, Level = LogLevel.Debug, Message = "Ingested {EventCount} bus events in one call: {AcceptedCount} stored, {DuplicateCount} duplicates, {RejectedCount} rejected")]
        public static partial void BatchIngested(ILogger logger, int eventCount, int acceptedCount, int duplicateCount, int rejectedCount);

        [LoggerMessage(EventId = 1012, Level = LogLevel.Error, Message = "Failed to store {EventCount} bus events, so each of their messages fails and MassTransit retries it")]
        public static partial void BatchFailed(ILogger logger, Exception exception, int eventCount);
    }
}
