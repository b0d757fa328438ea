using System.Runtime.CompilerServices;
using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Common;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.View.Contracts;
using LambdaStats.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace LambdaStats.Tests.Lambda;

/// <summary>The rows of an aggregation that the batch has committed can be collected while the run commits the next aggregations.</summary>
[TestFixture]
public sealed class CommittedRowsReleaseTests
{
    private static readonly DateTimeOffset Now = new(2026, 7, 8, 9, 5, 0, TimeSpan.Zero);

    [Test]
    public async Task HourlyRun_CommittedRows_AreCollectable()
    {
        var clock = new FakeTimeProvider(Now.AddHours(-1));
        var views = new RowsTrackingViewStore(new InMemoryViewStore(), tracked: "mediaConsultations", checkedAt: "pageViews");
        await using var harness = new LambdaCoreHarness(new InMemoryEventStore(), views, clock);
        await harness.StartAsync();
        var events = Enumerable.Range(0, 2_000)
            .Select(i => new LambdaEvent
            {
                Id = $"e{i}",
                Type = i % 2 == 0 ? EventType.MediaOpened : EventType.PageViewed,
                OccurredAt = Now.AddHours(-1).AddSeconds(i),
                HubId = $"h{i % 7}",
                MediaId = $"m{i % 101}",
                VisitorId = $"v{i % 13}",
                Page = 1 + i % 5,
                DurationSeconds = 3,
            })
            .ToArray();
        await harness.IngestAsync(events);

        clock.SetUtcNow(Now);
        var summary = await harness.RunHourlyAsync();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(summary.Aggregations.Where(a => a.Error is not null), Is.Empty);
            Assert.That(views.TrackedRowsAliveAtCheck, Is.False, "mediaConsultations rows still reachable when pageViews committed");
            Assert.That(harness.Speed.DivergenceCount, Is.Zero);
        }
    }

    /// <summary>Keeps a weak reference to the rows of one aggregation's commit, and collects the heap when a later aggregation commits.</summary>
    private sealed class RowsTrackingViewStore(IViewStore inner, string tracked, string checkedAt) : DelegatingViewStore(inner)
    {
        private WeakReference? trackedRows;

        /// <summary>Whether the tracked rows survived a full collection at the later commit; null until that commit ran.</summary>
        public bool? TrackedRowsAliveAtCheck { get; private set; }

        public override Task CommitAsync(AggregationDefinition aggregation, IReadOnlyList<BucketRows<UtcHour>> hours, IReadOnlyList<BucketRows<UtcDay>> days, BatchFrontier frontier, CancellationToken cancellationToken)
        {
            if (aggregation.Name == tracked && hours.Count > 0)
            {
                trackedRows = Track(hours);
            }

            if (aggregation.Name == checkedAt && trackedRows is not null)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                GC.Collect();
                TrackedRowsAliveAtCheck = trackedRows.IsAlive;
            }

            return base.CommitAsync(aggregation, hours, days, frontier, cancellationToken);
        }

        // Not inlined, so that no local of the caller keeps the rows.
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static WeakReference Track(IReadOnlyList<BucketRows<UtcHour>> hours) => new(hours[0].Rows);
    }
}
