using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Common;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.View.Contracts;
using LambdaStats.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace LambdaStats.Tests.Lambda;

/// <summary>
/// The handover between the layers on 2020-01-10 for MediaOpened: the batch for [9h, 10h) starts
/// at 10:00 and commits at 10:02. At each time the test checks where a new event goes (current
/// or previous buffer), which parts compose the "last 30 days" answer, and that the answer equals
/// the brute force.
/// </summary>
[TestFixture]
public sealed class ReferenceTimelineTests
{
    private static readonly DateTimeOffset Day = new(2020, 1, 10, 0, 0, 0, TimeSpan.Zero);
    private static readonly UtcHour H8 = UtcHour.StartingAt(Day.AddHours(8));
    private static readonly UtcHour H9 = UtcHour.StartingAt(Day.AddHours(9));
    private static readonly UtcHour H10 = UtcHour.StartingAt(Day.AddHours(10));

    private FakeTimeProvider clock = null!;
    private InMemoryEventStore events = null!;
    private CommitGate views = null!;
    private LambdaCoreHarness harness = null!;
    private int nextId;

    [SetUp]
    public async Task SetUp()
    {
        clock = new FakeTimeProvider(Day.AddDays(-20).AddHours(5));
        events = new InMemoryEventStore();
        views = new CommitGate(new InMemoryViewStore());
        // The view cache is off so that every query reads its buckets from the store, where the
        // test records which ones it requested.
        var configuration = new ConfigurationBuilder()
            .AddConfiguration(TestConfiguration.Shipped)
            .AddInMemoryCollection(new Dictionary<string, string?> { ["View:Cache:MaxMegabytes"] = "0" })
            .Build();
        harness = new LambdaCoreHarness(events, views, clock, configuration: configuration);
        await harness.StartAsync();

        // History: older days, then the hours 8h and 9h, with the batch run at 9:00 for [.., 9h).
        await OpenAsync(Day.AddDays(-20).AddHours(5));
        await OpenAsync(Day.AddDays(-3).AddHours(14), "m2");
        await OpenAsync(Day.AddHours(8).AddMinutes(30));
        clock.SetUtcNow(Day.AddHours(9));
        await harness.RunHourlyAsync();
        await harness.RunDailyAsync();
        await OpenAsync(Day.AddHours(9).AddMinutes(30));
    }

    [TearDown]
    public async Task TearDown() => await harness.DisposeAsync();

    [Test]
    public async Task Timeline_EachTime_RoutesAndComposesAsSpecified()
    {
        // 9h59: BL [origin, 9h) + SPC [9h, now).
        clock.SetUtcNow(Day.AddHours(9).AddMinutes(59));
        await OpenAsync(clock.GetUtcNow());
        AssertSegments("9h59", (null, [H9]));
        await AssertLast30DaysAsync("9h59", H9, [H9]);

        // 10h00: BatchStarting; the previous buffer holds [9h, 10h), new events go to the current one.
        clock.SetUtcNow(Day.AddHours(10));
        views.Hold();
        var batch = Task.Run(harness.RunHourlyAsync);
        await views.WaitUntilCommitStartedAsync();
        await OpenAsync(clock.GetUtcNow());
        var sealedAt = Buffer.DescribeSegments()[0].SealedAt;
        Assert.That(sealedAt, Is.Not.Null, "the 9h buffer is sealed at BatchStarting");
        AssertSegments("10h00", (sealedAt, [H9]), (null, [H10]));
        await AssertLast30DaysAsync("10h00", H9, [H9, H10]);

        // 10h01: the batch is still running.
        clock.SetUtcNow(Day.AddHours(10).AddMinutes(1));
        await OpenAsync(clock.GetUtcNow());
        AssertSegments("10h01", (sealedAt, [H9]), (null, [H10]));
        await AssertLast30DaysAsync("10h01", H9, [H9, H10]);

        // 10h02: BatchCompleted; the views cover [origin, 10h) and the 9h buffer is released.
        clock.SetUtcNow(Day.AddHours(10).AddMinutes(2));
        views.Release();
        await batch;
        await OpenAsync(clock.GetUtcNow());
        AssertSegments("10h02", (null, [H10]));
        await AssertLast30DaysAsync("10h02", H10, [H10]);

        foreach (var minute in new[] { 15, 59 })
        {
            clock.SetUtcNow(Day.AddHours(10).AddMinutes(minute));
            await OpenAsync(clock.GetUtcNow());
            AssertSegments($"10h{minute}", (null, [H10]));
            await AssertLast30DaysAsync($"10h{minute}", H10, [H10]);
        }
    }

    private Modules.Speed.SpeedBuffer Buffer => harness.Speed.Get("mediaConsultations");

    private async Task OpenAsync(DateTimeOffset occurredAt, string mediaId = "m1")
    {
        var e = new LambdaEvent { Id = $"e{nextId++}", Type = EventType.MediaOpened, OccurredAt = occurredAt, HubId = "h1", MediaId = mediaId };
        var result = await harness.IngestAsync(e);
        Assert.That(result.Accepted, Is.EqualTo(1));
    }

    private void AssertSegments(string time, params (long? SealedAt, UtcHour[] Hours)[] expected)
    {
        var actual = Buffer.DescribeSegments();
        Assert.That(
            actual.Select(s => $"{(s.SealedAt is null ? "current" : "previous")}: {string.Join(",", s.Hours)}"),
            Is.EqualTo(expected.Select(s => $"{(s.SealedAt is null ? "current" : "previous")}: {string.Join(",", s.Hours)}")),
            $"speed buffers at {time}");
    }

    /// <summary>"Last 30 days" at day J is [J-29 00:00, now).</summary>
    private async Task AssertLast30DaysAsync(string time, UtcHour watermark, UtcHour[] speedHours)
    {
        var from = Day.AddDays(-29);
        var to = clock.GetUtcNow();
        views.Inner.Reads.Clear();
        var snapshot = harness.Speed.TakeSnapshot(Definition, new KeyFilter("h1"), UtcHour.Containing(from), UtcHour.Containing(to).Next);
        var answer = await harness.QueryAsync("mediaConsultations", "h1", from, to);

        var expected = BruteForce.Answer(Definition, events.All, "h1", from, to);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(answer.Frontier.Watermark, Is.EqualTo(watermark), $"batch range at {time} ends at the watermark");
            Assert.That(Coalesce(views.Inner.Reads), Is.EqualTo(ExpectedViewReads(UtcHour.StartingAt(from), watermark)), $"views read at {time}");
            Assert.That(snapshot.Rows.Select(r => r.Hour).Distinct().Order(), Is.EqualTo(speedHours), $"speed hours read at {time}");
            Assert.That(BruteForce.Of(answer), Is.EqualTo(expected), $"answer at {time}");
        }
    }

    /// <summary>Joins reads of adjacent buckets of the same kind into one range: "days a..b", "days b..c" → "days a..c".</summary>
    private static List<string> Coalesce(IEnumerable<string> reads)
    {
        var ranges = new List<(string Kind, string From, string To)>();
        foreach (var read in reads)
        {
            var kind = read[..read.IndexOf(' ', StringComparison.Ordinal)];
            var bounds = read[(kind.Length + 1)..].Split("..");
            if (ranges.Count > 0 && ranges[^1].Kind == kind && ranges[^1].To == bounds[0])
            {
                ranges[^1] = (kind, ranges[^1].From, bounds[1]);
            }
            else
            {
                ranges.Add((kind, bounds[0], bounds[1]));
            }
        }

        return ranges.Select(range => $"{range.Kind} {range.From}..{range.To}").ToList();
    }

    /// <summary>Daily views before the daily watermark (midnight of day J), hourly views for [J 00:00, watermark).</summary>
    private static string[] ExpectedViewReads(UtcHour from, UtcHour watermark) =>
        [$"days {from.Day}..{watermark.Day}", $"hours {watermark.Day.FirstHour}..{watermark}"];

    private AggregationDefinition Definition => harness.Services.GetRequiredService<AggregationCatalog>().Get("mediaConsultations");

    /// <summary>A view store whose commit can be held, to freeze a batch between BatchStarting and BatchCompleted.</summary>
    private sealed class CommitGate(InMemoryViewStore inner) : DelegatingViewStore(inner)
    {
        private TaskCompletionSource release = Completed();
        private TaskCompletionSource started = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public InMemoryViewStore Inner => inner;

        public void Hold()
        {
            release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        public void Release() => release.TrySetResult();

        public Task WaitUntilCommitStartedAsync() => started.Task.WaitAsync(TimeSpan.FromSeconds(30));

        public override async Task CommitAsync(AggregationDefinition aggregation, IReadOnlyList<BucketRows<UtcHour>> hours, IReadOnlyList<BucketRows<UtcDay>> days, BatchFrontier frontier, CancellationToken cancellationToken)
        {
            if (aggregation.Name == "mediaConsultations")
            {
                started.TrySetResult();
                await release.Task;
            }

            await base.CommitAsync(aggregation, hours, days, frontier, cancellationToken);
        }

        private static TaskCompletionSource Completed()
        {
            var source = new TaskCompletionSource();
            source.SetResult();
            return source;
        }
    }
}
