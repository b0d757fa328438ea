using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Events.Contracts;
using static LambdaStats.Tests.Aggregation.AccumulatorTestSupport;

namespace LambdaStats.Tests.Aggregation;

[TestFixture]
public sealed class ExtremumAccumulatorTests
{
    private static readonly OutputDefinition MinSeconds = new("minSeconds", AggregatorKind.Min, EventField.DurationSeconds);
    private static readonly OutputDefinition MaxSeconds = new("maxSeconds", AggregatorKind.Max, EventField.DurationSeconds);
    private static readonly OutputDefinition MinPage = new("minPage", AggregatorKind.Min, EventField.Page);
    private static readonly OutputDefinition MaxPage = new("maxPage", AggregatorKind.Max, EventField.Page);

    [Test]
    public void Value_FieldSometimesMissing_IgnoresMissing()
    {
        LambdaEvent[] events = [Event(durationSeconds: 12.5), Event(), Event(durationSeconds: 3), Event(durationSeconds: 40), Event(page: 7)];

        using (Assert.EnterMultipleScope())
        {
            Assert.That(Value(AddAll(MinSeconds, events)), Is.EqualTo("3"), "min of durationSeconds");
            Assert.That(Value(AddAll(MaxSeconds, events)), Is.EqualTo("40"), "max of durationSeconds");
            Assert.That(Value(AddAll(MinPage, events)), Is.EqualTo("7"), "min of page");
            Assert.That(Value(AddAll(MaxPage, events)), Is.EqualTo("7"), "max of page");
        }
    }

    [Test]
    public void Value_NoEventCarriesField_IsJsonNull()
    {
        LambdaEvent[] events = [Event(page: 2), Event()];

        using (Assert.EnterMultipleScope())
        {
            Assert.That(Value(AddAll(MinSeconds, events)), Is.EqualTo("null"), "min");
            Assert.That(Value(AddAll(MaxSeconds, events)), Is.EqualTo("null"), "max");
            Assert.That(Value(MinSeconds.CreateAccumulator()), Is.EqualTo("null"), "identity");
        }
    }

    [Test]
    public void Merge_IdentityIntoValue_KeepsValue()
    {
        var min = AddAll(MinSeconds, [Event(durationSeconds: 5)]);
        var max = AddAll(MaxSeconds, [Event(durationSeconds: 5)]);

        min.Merge(MinSeconds.CreateAccumulator());
        max.Merge(MaxSeconds.CreateAccumulator());

        using (Assert.EnterMultipleScope())
        {
            Assert.That(Value(min), Is.EqualTo("5"), "min");
            Assert.That(Value(max), Is.EqualTo("5"), "max");
        }
    }

    [Test]
    public void Merge_TwoBuckets_KeepsExtremeOfBoth()
    {
        var earlyMin = AddAll(MinSeconds, [Event(durationSeconds: 8), Event(durationSeconds: 2.5)]);
        var lateMin = AddAll(MinSeconds, [Event(durationSeconds: 4)]);
        var earlyMax = AddAll(MaxSeconds, [Event(durationSeconds: 8), Event(durationSeconds: 2.5)]);
        var lateMax = AddAll(MaxSeconds, [Event(durationSeconds: 30)]);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(Value(Merged(lateMin, earlyMin)), Is.EqualTo("2.5"), "min");
            Assert.That(Value(Merged(earlyMax, lateMax)), Is.EqualTo("30"), "max");
        }
    }

    [Test]
    public void SortValue_NoValue_IsNegativeInfinity()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(MinSeconds.CreateAccumulator().SortValue, Is.EqualTo(double.NegativeInfinity), "min");
            Assert.That(MaxSeconds.CreateAccumulator().SortValue, Is.EqualTo(double.NegativeInfinity), "max");
            Assert.That(AddAll(MaxSeconds, [Event(durationSeconds: 0)]).SortValue, Is.Zero, "max of one zero");
        }
    }

    [Test]
    public void SerializeState_NoValue_RoundTripsNull()
    {
        var empty = MinSeconds.CreateAccumulator();

        var copy = RoundTrip(MinSeconds, empty);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(State(empty), Is.EqualTo("[null]"), "stored state");
            Assert.That(Value(copy), Is.EqualTo("null"), "value read back");
        }
    }

    [Test]
    public void AddToTotal_TwoKeys_TakesExtremeOfBoth()
    {
        var definition = Definition(MinSeconds, MaxSeconds);
        var first = definition.CreateRow();
        var second = definition.CreateRow();
        first.Add(Event(durationSeconds: 6, mediaId: "m1"));
        second.Add(Event(durationSeconds: 1, mediaId: "m2"));
        second.Add(Event(durationSeconds: 9, mediaId: "m2"));

        var total = definition.CreateTotalRow();
        first.AddToTotal(total);
        second.AddToTotal(total);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(Value(total.Outputs[0]), Is.EqualTo("1"), "min");
            Assert.That(Value(total.Outputs[1]), Is.EqualTo("9"), "max");
        }
    }
}
