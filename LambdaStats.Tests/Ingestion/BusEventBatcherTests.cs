using System.Text.Json;
using LambdaStats.Modules.Events.Bus;
using LambdaStats.Modules.Events.Contracts;
using Microsoft.Extensions.Logging.Abstractions;
using NSubstitute;

namespace LambdaStats.Tests.Ingestion;

[TestFixture]
public sealed class BusEventBatcherTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private IEventIngestor ingestor = null!;
    private BusEventBatcher batcher = null!;

    [SetUp]
    public async Task StartBatcher()
    {
        ingestor = Substitute.For<IEventIngestor>();
        batcher = new BusEventBatcher(ingestor, NullLogger<BusEventBatcher>.Instance);
        await batcher.StartAsync(CancellationToken.None);
    }

    [TearDown]
    public async Task StopBatcher()
    {
        await batcher.StopAsync(CancellationToken.None);
        batcher.Dispose();
    }

    [Test]
    public async Task EventsQueuedWhileStoring_ShareOneCall()
    {
        var firstCallEntered = new TaskCompletionSource();
        var releaseFirstCall = new TaskCompletionSource();
        var calls = new List<string[]>();
        ingestor.IngestAsync(Arg.Any<IReadOnlyList<JsonElement>>(), Arg.Any<CancellationToken>()).Returns(async call =>
        {
            var events = call.Arg<IReadOnlyList<JsonElement>>();
            lock (calls)
            {
                calls.Add(events.Select(e => e.GetProperty("id").GetString()!).ToArray());
            }

            if (calls.Count == 1)
            {
                firstCallEntered.SetResult();
                await releaseFirstCall.Task;
            }

            return new IngestionResult(events.Count, 0, []);
        });

        var first = batcher.IngestAsync(Event("a"), CancellationToken.None);
        await firstCallEntered.Task.WaitAsync(Patience);
        var queued = new[] { "b", "c", "d" }.Select(id => batcher.IngestAsync(Event(id), CancellationToken.None)).ToArray();
        releaseFirstCall.SetResult();
        var outcomes = await Task.WhenAll([first, .. queued]).WaitAsync(Patience);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(calls, Has.Count.EqualTo(2), "one call for the first event, one for those queued meanwhile");
            Assert.That(calls[0], Is.EqualTo(new[] { "a" }));
            Assert.That(calls[1], Is.EqualTo(new[] { "b", "c", "d" }));
            Assert.That(outcomes, Is.All.Null, "every event stored");
        }
    }

    [Test]
    public async Task RejectedEvent_GetsItsOwnReason()
    {
        var firstCallEntered = new TaskCompletionSource();
        var releaseFirstCall = new TaskCompletionSource();
        var callCount = 0;
        ingestor.IngestAsync(Arg.Any<IReadOnlyList<JsonElement>>(), Arg.Any<CancellationToken>()).Returns(async call =>
        {
            if (Interlocked.Increment(ref callCount) == 1)
            {
                firstCallEntered.SetResult();
                await releaseFirstCall.Task;
                return new IngestionResult(1, 0, []);
            }

            // The second call contains b, bad, c: only the event at index 1 is rejected.
            return new IngestionResult(2, 0, [new RejectedEvent(1, "bad", "mediaId: required")]);
        });

        var first = batcher.IngestAsync(Event("a"), CancellationToken.None);
        await firstCallEntered.Task.WaitAsync(Patience);
        var b = batcher.IngestAsync(Event("b"), CancellationToken.None);
        var bad = batcher.IngestAsync(Event("bad"), CancellationToken.None);
        var c = batcher.IngestAsync(Event("c"), CancellationToken.None);
        releaseFirstCall.SetResult();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(await first.WaitAsync(Patience), Is.Null, "a");
            Assert.That(await b.WaitAsync(Patience), Is.Null, "b");
            Assert.That(await bad.WaitAsync(Patience), Is.EqualTo("mediaId: required"), "bad");
            Assert.That(await c.WaitAsync(Patience), Is.Null, "c");
        }
    }

    [Test]
    public void FailedCall_FailsEveryEventOfIt()
    {
        ingestor.IngestAsync(Arg.Any<IReadOnlyList<JsonElement>>(), Arg.Any<CancellationToken>())
            .Returns<Task<IngestionResult>>(_ => throw new IOException("disk full"));

        var failed = batcher.IngestAsync(Event("a"), CancellationToken.None);

        var exception = Assert.ThrowsAsync<InvalidOperationException>(async () => await failed.WaitAsync(Patience));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(exception!.Message, Does.StartWith("Failed to store the event (IOException: disk full)."));
            Assert.That(exception.InnerException, Is.TypeOf<IOException>());
        }
    }

    [Test]
    public void FailedCall_KeepsFirstLineOfMessage()
    {
        var driverMessage = "A timeout occurred after 30000ms selecting a server.\nClient view of cluster state is { ClusterId : \"1\", Servers : [...] }";
        ingestor.IngestAsync(Arg.Any<IReadOnlyList<JsonElement>>(), Arg.Any<CancellationToken>())
            .Returns<Task<IngestionResult>>(_ => throw new TimeoutException(driverMessage));

        var failed = batcher.IngestAsync(Event("a"), CancellationToken.None);

        var exception = Assert.ThrowsAsync<InvalidOperationException>(async () => await failed.WaitAsync(Patience));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(exception!.Message, Does.Contain("TimeoutException: A timeout occurred after 30000ms selecting a server)"));
            Assert.That(exception.Message, Does.Not.Contain("cluster state"));
            Assert.That(exception.Message, Does.Contain("Send the message again once the event store is back"));
        }
    }

    [Test]
    public async Task AfterFailure_NextEventsAreStored()
    {
        var callCount = 0;
        ingestor.IngestAsync(Arg.Any<IReadOnlyList<JsonElement>>(), Arg.Any<CancellationToken>()).Returns(call =>
            Interlocked.Increment(ref callCount) == 1
                ? Task.FromException<IngestionResult>(new IOException("disk full"))
                : Task.FromResult(new IngestionResult(1, 0, [])));

        var failed = batcher.IngestAsync(Event("a"), CancellationToken.None);
        Assert.ThrowsAsync<InvalidOperationException>(async () => await failed.WaitAsync(Patience));
        var retried = await batcher.IngestAsync(Event("a"), CancellationToken.None).WaitAsync(Patience);

        Assert.That(retried, Is.Null);
    }

    private static JsonElement Event(string id) => JsonSerializer.SerializeToElement(new { id });
}
