using System.Threading.Channels;
using LambdaStats.Modules.Events.Import;
using LambdaStats.Web.Cli;
using Microsoft.Extensions.Time.Testing;

namespace LambdaStats.Tests.Import;

public sealed class ImportRunnerTests
{
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(10);
    private static readonly DateTimeOffset Start = new(2026, 1, 10, 9, 0, 0, TimeSpan.Zero);

    private string folder = string.Empty;

    [SetUp]
    public void CreateFolder()
    {
        folder = Path.Combine(Path.GetTempPath(), "lambdastats-runner-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
    }

    [TearDown]
    public void DeleteFolder() => Directory.Delete(folder, recursive: true);

    [Test]
    public async Task Replay_EventsTenSecondsApartAtSpeedTen_WaitsOneSecondEach()
    {
        // Lines out of event-time order: line 1 at +20 s, line 2 at +0 s, line 3 at +10 s.
        var path = WriteLog(
            Line("02:00:20", "/c.html"),
            Line("02:00:00", "/a.html"),
            Line("02:00:10", "/b.html"));
        var fake = new FakeTimeProvider(Start);
        var time = new DelayRecordingTimeProvider(fake);
        var target = new RecordingTarget(fake);
        var runner = new ImportRunner(target, time, ImportFormat.Clf, batchSize: 100, replaySpeed: 10);

        await using var source = ImportSource.Open(path);
        var run = runner.RunAsync(source, NullImportProgress.Instance, CancellationToken.None);

        var first = await target.Sent.Reader.ReadAsync().AsTask().WaitAsync(WaitLimit);
        var firstDelay = await time.Delays.Reader.ReadAsync().AsTask().WaitAsync(WaitLimit);
        fake.Advance(firstDelay);
        var second = await target.Sent.Reader.ReadAsync().AsTask().WaitAsync(WaitLimit);
        var secondDelay = await time.Delays.Reader.ReadAsync().AsTask().WaitAsync(WaitLimit);
        fake.Advance(secondDelay);
        var third = await target.Sent.Reader.ReadAsync().AsTask().WaitAsync(WaitLimit);
        await run.WaitAsync(WaitLimit);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(first.LineNumbers, Is.EqualTo(new long[] { 2 }));
            Assert.That(second.LineNumbers, Is.EqualTo(new long[] { 3 }));
            Assert.That(third.LineNumbers, Is.EqualTo(new long[] { 1 }));
            Assert.That(firstDelay, Is.EqualTo(TimeSpan.FromSeconds(1)));
            Assert.That(secondDelay, Is.EqualTo(TimeSpan.FromSeconds(1)));
            Assert.That(first.SentAt, Is.EqualTo(Start));
            Assert.That(second.SentAt, Is.EqualTo(Start.AddSeconds(1)));
            Assert.That(third.SentAt, Is.EqualTo(Start.AddSeconds(2)));
            Assert.That(time.Delays.Reader.TryRead(out var extra), Is.False, $"unexpected delay {extra}");
            Assert.That(runner.Summary.Accepted, Is.EqualTo(3));
            Assert.That(runner.Summary.IsBalanced, Is.True);
        }
    }

    [Test]
    public async Task Replay_SameSecond_SendsOneBatch()
    {
        var path = WriteLog(
            Line("02:00:00", "/a.html"),
            Line("02:00:00", "/b.html"),
            Line("02:00:30", "/c.html"));
        var fake = new FakeTimeProvider(Start);
        var time = new DelayRecordingTimeProvider(fake);
        var target = new RecordingTarget(fake);
        var runner = new ImportRunner(target, time, ImportFormat.Clf, batchSize: 100, replaySpeed: 60);

        await using var source = ImportSource.Open(path);
        var run = runner.RunAsync(source, NullImportProgress.Instance, CancellationToken.None);

        var first = await target.Sent.Reader.ReadAsync().AsTask().WaitAsync(WaitLimit);
        var delay = await time.Delays.Reader.ReadAsync().AsTask().WaitAsync(WaitLimit);
        fake.Advance(delay);
        var second = await target.Sent.Reader.ReadAsync().AsTask().WaitAsync(WaitLimit);
        await run.WaitAsync(WaitLimit);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(first.LineNumbers, Is.EqualTo(new long[] { 1, 2 }));
            Assert.That(second.LineNumbers, Is.EqualTo(new long[] { 3 }));
            Assert.That(delay, Is.EqualTo(TimeSpan.FromSeconds(0.5)));
        }
    }

    [Test]
    public async Task Run_WithoutReplaySpeed_SendsFullBatchesWithoutWaiting()
    {
        var path = WriteLog(
            Line("02:00:50", "/a.html"),
            Line("02:00:40", "/b.gif"),
            Line("02:00:30", "/c.html", status: 404),
            Line("02:00:20", "/d.html"),
            "this is not a log line",
            string.Empty,
            Line("02:00:10", "/e.html"),
            Line("02:00:00", "/f.html"));
        var fake = new FakeTimeProvider(Start);
        var time = new DelayRecordingTimeProvider(fake);
        var target = new RecordingTarget(fake);
        var runner = new ImportRunner(target, time, ImportFormat.Clf, batchSize: 2, replaySpeed: null);

        await using var source = ImportSource.Open(path);
        await runner.RunAsync(source, NullImportProgress.Instance, CancellationToken.None).WaitAsync(WaitLimit);

        var sends = new List<SentBatch>();
        while (target.Sent.Reader.TryRead(out var sent))
        {
            sends.Add(sent);
        }

        var summary = runner.Summary;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(sends.Select(sent => sent.LineNumbers), Is.EqualTo(new[] { new long[] { 1, 2 }, [4, 7], [8] }));
            Assert.That(time.Delays.Reader.TryRead(out _), Is.False);
            Assert.That(summary.LinesRead, Is.EqualTo(8));
            Assert.That(summary.Accepted, Is.EqualTo(5));
            Assert.That(summary.SkippedByReason["status 404"], Is.EqualTo(1));
            Assert.That(summary.SkippedByReason[JsonLinesReader.BlankLineReason], Is.EqualTo(1));
            Assert.That(summary.Rejected, Is.EqualTo(1));
            Assert.That(summary.FirstRejections[0].LineNumber, Is.EqualTo(5));
            Assert.That(summary.IsBalanced, Is.True);
        }
    }

    [Test]
    public async Task Run_TargetFails_CountsUnsentEventsAsUnconfirmed()
    {
        var path = WriteLog(
            Line("02:00:00", "/a.html"),
            Line("02:00:01", "/b.html"),
            Line("02:00:02", "/c.html", status: 404),
            Line("02:00:03", "/d.html"));
        var target = new FailingTarget(failOnCall: 2);
        var runner = new ImportRunner(target, TimeProvider.System, ImportFormat.Clf, batchSize: 1, replaySpeed: null);

        await using var source = ImportSource.Open(path);
        Assert.ThrowsAsync<ImportTargetException>(() => runner.RunAsync(source, NullImportProgress.Instance, CancellationToken.None));

        var summary = runner.Summary;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(summary.LinesRead, Is.EqualTo(2));
            Assert.That(summary.Accepted, Is.EqualTo(1));
            Assert.That(summary.Unconfirmed, Is.EqualTo(1));
            Assert.That(summary.IsBalanced, Is.True);
            Assert.That(runner.LastLineNumber, Is.EqualTo(2));
        }
    }

    [Test]
    public async Task Replay_Cancelled_CountsUnsentEventsAsUnconfirmed()
    {
        var path = WriteLog(
            Line("02:00:00", "/a.html"),
            Line("02:00:10", "/b.html"),
            Line("02:00:20", "/c.html"));
        var fake = new FakeTimeProvider(Start);
        var time = new DelayRecordingTimeProvider(fake);
        var target = new RecordingTarget(fake);
        var runner = new ImportRunner(target, time, ImportFormat.Clf, batchSize: 100, replaySpeed: 1);
        using var cancellation = new CancellationTokenSource();

        await using var source = ImportSource.Open(path);
        var run = runner.RunAsync(source, NullImportProgress.Instance, cancellation.Token);
        await target.Sent.Reader.ReadAsync().AsTask().WaitAsync(WaitLimit);
        await time.Delays.Reader.ReadAsync().AsTask().WaitAsync(WaitLimit);
        await cancellation.CancelAsync();

        Assert.CatchAsync<OperationCanceledException>(() => run.WaitAsync(WaitLimit));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(runner.Summary.Accepted, Is.EqualTo(1));
            Assert.That(runner.Summary.Unconfirmed, Is.EqualTo(2));
            Assert.That(runner.Summary.IsBalanced, Is.True);
        }
    }

    [Test]
    public void Report_PlainProgress_PrintsOncePerInterval()
    {
        var fake = new FakeTimeProvider(Start);
        var output = new StringWriter();
        var progress = new PlainImportProgress(output, fake, TimeSpan.FromSeconds(5));

        progress.Report(0.1, 100);
        fake.Advance(TimeSpan.FromSeconds(5));
        progress.Report(0.5, 1_000);
        fake.Advance(TimeSpan.FromSeconds(1));
        progress.Report(0.6, 1_200);

        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(lines, Has.Length.EqualTo(1));
            Assert.That(lines[0].TrimEnd(), Is.EqualTo("Imported 1,000 events (50% done), 200 events/s"));
        }
    }

    private string WriteLog(params string[] lines)
    {
        var path = Path.Combine(folder, "access.log");
        File.WriteAllLines(path, lines);
        return path;
    }

    private static string Line(string time, string path, int status = 200) =>
        $"client.example.com - - [01/Aug/1995:{time} -0400] \"GET {path} HTTP/1.0\" {status} 100";

    /// <summary>A batch as <see cref="RecordingTarget"/> received it, with the fake clock's time.</summary>
    private sealed record SentBatch(long[] LineNumbers, DateTimeOffset SentAt);

    /// <summary>Accepts every event and records each batch with the fake clock's time.</summary>
    private sealed class RecordingTarget(FakeTimeProvider clock) : IImportTarget
    {
        public Channel<SentBatch> Sent { get; } = Channel.CreateUnbounded<SentBatch>();

        public Task<ImportBatchResult> SendAsync(IReadOnlyList<ImportRecord> batch, CancellationToken cancellationToken)
        {
            Sent.Writer.TryWrite(new SentBatch(batch.Select(record => record.LineNumber).ToArray(), clock.GetUtcNow()));
            return Task.FromResult(new ImportBatchResult(batch.Count, 0, []));
        }
    }

    /// <summary>Accepts every batch until call number <c>failOnCall</c>, which throws.</summary>
    private sealed class FailingTarget(int failOnCall) : IImportTarget
    {
        private int calls;

        public Task<ImportBatchResult> SendAsync(IReadOnlyList<ImportRecord> batch, CancellationToken cancellationToken)
        {
            calls++;
            return calls == failOnCall
                ? Task.FromException<ImportBatchResult>(new ImportTargetException("the store is gone"))
                : Task.FromResult(new ImportBatchResult(batch.Count, 0, []));
        }
    }

    /// <summary>
    /// A clock that delegates to a <see cref="FakeTimeProvider"/> and publishes the due time of
    /// every timer after creating it, so a test can advance the fake clock by exactly that much.
    /// </summary>
    private sealed class DelayRecordingTimeProvider(FakeTimeProvider inner) : TimeProvider
    {
        public Channel<TimeSpan> Delays { get; } = Channel.CreateUnbounded<TimeSpan>();

        public override long TimestampFrequency => inner.TimestampFrequency;

        public override TimeZoneInfo LocalTimeZone => inner.LocalTimeZone;

        public override DateTimeOffset GetUtcNow() => inner.GetUtcNow();

        public override long GetTimestamp() => inner.GetTimestamp();

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = inner.CreateTimer(callback, state, dueTime, period);
            Delays.Writer.TryWrite(dueTime);
            return timer;
        }
    }
}

/// <summary>Creates Spectre consoles that write plain text to a <see cref="TextWriter"/>.</summary>
internal static class ConsoleFactory
{
    public static Spectre.Console.IAnsiConsole Create(TextWriter writer) => Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings
    {
        Ansi = Spectre.Console.AnsiSupport.No,
        ColorSystem = Spectre.Console.ColorSystemSupport.NoColors,
        Interactive = Spectre.Console.InteractionSupport.No,
        Out = new Spectre.Console.AnsiConsoleOutput(writer),
    });
}
