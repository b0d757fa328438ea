using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Events.Contracts;

namespace LambdaStats.Tests.Aggregation;

/// <summary>Views are stored under an id that changes with the aggregation's shape, so a changed configuration is backfilled, not misread.</summary>
[TestFixture]
public sealed class ViewIdTests
{
    [Test]
    public void ViewId_SameDefinition_IsStable()
    {
        var first = Definition(new OutputDefinition("opens", AggregatorKind.Count));
        var second = Definition(new OutputDefinition("opens", AggregatorKind.Count));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(first.ViewId, Is.EqualTo(second.ViewId));
            Assert.That(first.ViewId, Does.StartWith("opensByHub@"));
        }
    }

    [Test]
    public void ViewId_OutputAddedOrChanged_Differs()
    {
        var original = Definition(new OutputDefinition("opens", AggregatorKind.Count)).ViewId;
        var added = Definition(new OutputDefinition("opens", AggregatorKind.Count), new OutputDefinition("any", AggregatorKind.Exists)).ViewId;
        var renamed = Definition(new OutputDefinition("visits", AggregatorKind.Count)).ViewId;
        var otherKind = Definition(new OutputDefinition("opens", AggregatorKind.Exists)).ViewId;

        Assert.That(new[] { original, added, renamed, otherKind }, Is.Unique);
    }

    private static AggregationDefinition Definition(params OutputDefinition[] outputs) =>
        new("opensByHub", EventType.MediaOpened, [EventField.HubId], outputs);
}
