using System.Text.Json;
using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Events.Contracts;
using static LambdaStats.Tests.Aggregation.AccumulatorTestSupport;

namespace LambdaStats.Tests.Aggregation;

[TestFixture]
public sealed class ExactDistinctCountAccumulatorTests
{
    private static readonly OutputDefinition Visitors = new("visitors", AggregatorKind.DistinctCount, EventField.VisitorId);
    private static readonly OutputDefinition Seconds = new("seconds", AggregatorKind.DistinctCount, EventField.DurationSeconds);
    private static readonly OutputDefinition Pages = new("pages", AggregatorKind.DistinctCount, EventField.Page);

    [Test]
    public void Value_RepeatedVisitors_CountsEachOnce()
    {
        var accumulator = AddAll(Visitors, [Event("v1"), Event("v2"), Event("v1"), Event(), Event("V1")]);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(Value(accumulator), Is.EqualTo("3"), "v1, v2 and V1: case matters, events without a visitor add nothing");
            Assert.That(accumulator.SortValue, Is.EqualTo(3), "sort value");
        }
    }

    [Test]
    public void Value_NumericField_CountsByValue()
    {
        var seconds = AddAll(Seconds, [Event(durationSeconds: 1.5), Event(durationSeconds: 1.5), Event(durationSeconds: 0.0), Event(durationSeconds: -0.0), Event(durationSeconds: 2)]);
        var pages = AddAll(Pages, [Event(page: 1), Event(page: 1), Event(page: 12), Event()]);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(Value(seconds), Is.EqualTo("3"), "1.5, 0 (also written -0) and 2");
            Assert.That(Value(pages), Is.EqualTo("2"), "pages 1 and 12");
        }
    }

    [Test]
    public void Value_Identity_IsZero()
    {
        Assert.That(Value(Visitors.CreateAccumulator()), Is.EqualTo("0"));
    }

    [Test]
    public void Merge_OverlappingBuckets_CountsUnion()
    {
        var monday = AddAll(Visitors, [Event("v1"), Event("v2")]);
        var tuesday = AddAll(Visitors, [Event("v2"), Event("v3")]);

        Assert.That(Value(Merged(monday, tuesday)), Is.EqualTo("3"));
    }

    [Test]
    public void AddToTotal_SeveralMedia_CountsUnion()
    {
        var definition = Definition(Visitors);
        var first = definition.CreateRow();
        var second = definition.CreateRow();
        first.Add(Event("v1", mediaId: "m1"));
        first.Add(Event("v2", mediaId: "m1"));
        second.Add(Event("v2", mediaId: "m2"));
        second.Add(Event("v3", mediaId: "m2"));

        var total = definition.CreateTotalRow();
        first.AddToTotal(total);
        second.AddToTotal(total);

        Assert.That(Value(total.Outputs[0]), Is.EqualTo("3"), "v2 read both media and counts once");
    }

    [Test]
    public void SerializeState_AnyAddOrder_StoresSortedValues()
    {
        var forward = AddAll(Visitors, [Event("b"), Event("a"), Event("c")]);
        var backward = AddAll(Visitors, [Event("c"), Event("b"), Event("a")]);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(State(forward), Is.EqualTo("""[["a","b","c"]]"""), "stored state");
            Assert.That(State(backward), Is.EqualTo(State(forward)), "same bytes for the same set");
        }
    }

    [Test]
    public void ReadState_HyperLogLogState_ThrowsFormatException()
    {
        var state = JsonDocument.Parse("""{"precision":14,"sparse":""}""").RootElement;

        Assert.That(() => Visitors.CreateAccumulator().ReadState(state), Throws.TypeOf<FormatException>().With.Message.Contains("recompute"));
    }
}
