using LambdaStats.Modules.Batch;
using LambdaStats.Modules.Common;

namespace LambdaStats.Tests.Lambda;

/// <summary>The name of a batch run in the logs distinguishes a scheduled run from a recompute or a backfill step.</summary>
[TestFixture]
public sealed class BatchRunRequestTests
{
    private static readonly UtcHour Hour = UtcHour.Containing(new DateTimeOffset(2026, 12, 4, 2, 0, 0, TimeSpan.Zero));

    [Test]
    public void Describe_Hourly_NamesHourlyBatch()
    {
        Assert.That(BatchRunRequest.Hourly.Describe(), Is.EqualTo("Hourly batch"));
    }

    [Test]
    public void Describe_Recompute_GivesRangeInIso()
    {
        var request = new BatchRunRequest(null, null, Hour, Hour.AddHours(30));

        Assert.That(request.Describe(), Is.EqualTo("Recompute of every aggregation from 2026-12-04T02:00:00+00:00 to 2026-12-05T08:00:00+00:00"));
    }

    [Test]
    public void Describe_BackfillStep_GivesAggregationAndCap()
    {
        var request = new BatchRunRequest("pageViews", Hour, null, null);

        Assert.That(request.Describe(), Is.EqualTo("Backfill step of pageViews up to 2026-12-04T02:00:00+00:00"));
    }
}
