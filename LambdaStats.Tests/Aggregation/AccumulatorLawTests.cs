using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Events.Contracts;
using static LambdaStats.Tests.Aggregation.AccumulatorTestSupport;

namespace LambdaStats.Tests.Aggregation;

/// <summary>
/// The commutative monoid laws that let buckets and layers combine in any order, checked on the
/// stored state of every min, max and distinctCount variant.
/// </summary>
[TestFixture]
public sealed class AccumulatorLawTests
{
    private static readonly List<LambdaEvent> First = CreateEvents(seed: 1, count: 1500, visitorPool: 4000);
    private static readonly List<LambdaEvent> Second = CreateEvents(seed: 2, count: 1500, visitorPool: 4000);
    private static readonly List<LambdaEvent> Third = CreateEvents(seed: 3, count: 300, visitorPool: 4000);

    private static IEnumerable<TestCaseData> Outputs() =>
        new[]
        {
            new OutputDefinition("minPage", AggregatorKind.Min, EventField.Page),
            new OutputDefinition("minSeconds", AggregatorKind.Min, EventField.DurationSeconds),
            new OutputDefinition("maxPage", AggregatorKind.Max, EventField.Page),
            new OutputDefinition("maxSeconds", AggregatorKind.Max, EventField.DurationSeconds),
            new OutputDefinition("exactVisitors", AggregatorKind.DistinctCount, EventField.VisitorId),
            new OutputDefinition("exactPages", AggregatorKind.DistinctCount, EventField.Page),
            new OutputDefinition("exactSeconds", AggregatorKind.DistinctCount, EventField.DurationSeconds, mode: DistinctCountMode.Exact),
            new OutputDefinition("hllVisitorsP4", AggregatorKind.DistinctCount, EventField.VisitorId, mode: DistinctCountMode.HyperLogLog, precision: 4),
            new OutputDefinition("hllVisitorsP10", AggregatorKind.DistinctCount, EventField.VisitorId, mode: DistinctCountMode.HyperLogLog, precision: 10),
            new OutputDefinition("hllVisitorsP14", AggregatorKind.DistinctCount, EventField.VisitorId, mode: DistinctCountMode.HyperLogLog),
            new OutputDefinition("hllSecondsP6", AggregatorKind.DistinctCount, EventField.DurationSeconds, mode: DistinctCountMode.HyperLogLog, precision: 6),
        }.Select(output => new TestCaseData(output).SetArgDisplayNames(output.Name));

    [TestCaseSource(nameof(Outputs))]
    public void Merge_Identity_LeavesStateUnchanged(OutputDefinition output)
    {
        var accumulator = AddAll(output, First);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(State(Merged(accumulator, output.CreateAccumulator())), Is.EqualTo(State(accumulator)), "x + identity");
            Assert.That(State(Merged(output.CreateAccumulator(), accumulator)), Is.EqualTo(State(accumulator)), "identity + x");
        }
    }

    [TestCaseSource(nameof(Outputs))]
    public void Merge_SwappedOperands_GiveSameState(OutputDefinition output)
    {
        var first = AddAll(output, First);
        var second = AddAll(output, Second);

        Assert.That(State(Merged(first, second)), Is.EqualTo(State(Merged(second, first))));
    }

    [TestCaseSource(nameof(Outputs))]
    public void Merge_RegroupedOperands_GiveSameState(OutputDefinition output)
    {
        var first = AddAll(output, First);
        var second = AddAll(output, Second);
        var third = AddAll(output, Third);

        Assert.That(State(Merged(Merged(first, second), third)), Is.EqualTo(State(Merged(first, Merged(second, third)))));
    }

    /// <summary>
    /// Splits the events at random into up to 12 parts, as hours and layers split them, and merges
    /// the parts in a random order: the state must equal that of adding every event to one
    /// accumulator.
    /// </summary>
    [TestCaseSource(nameof(Outputs))]
    public void Merge_RandomSplits_EqualsAddingAllEvents(OutputDefinition output)
    {
        var events = First.Concat(Second).ToList();
        var expected = State(AddAll(output, events));
        var random = new Random(20_260_301);
        for (var trial = 0; trial < 40; trial++)
        {
            var parts = Enumerable.Range(0, random.Next(1, 13)).Select(_ => output.CreateAccumulator()).ToArray();
            foreach (var e in events)
            {
                parts[random.Next(parts.Length)].Add(e);
            }

            random.Shuffle(parts);
            var merged = output.CreateAccumulator();
            foreach (var part in parts)
            {
                merged.Merge(part);
            }

            Assert.That(State(merged), Is.EqualTo(expected), $"trial {trial} with {parts.Length} parts");
        }
    }

    [TestCaseSource(nameof(Outputs))]
    public void SerializeState_RoundTrip_KeepsStateAndValue(OutputDefinition output)
    {
        var accumulator = AddAll(output, First);

        var copy = RoundTrip(output, accumulator);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(State(copy), Is.EqualTo(State(accumulator)), "state");
            Assert.That(Value(copy), Is.EqualTo(Value(accumulator)), "value");
            Assert.That(copy.SortValue, Is.EqualTo(accumulator.SortValue), "sort value");
        }
    }

    [TestCaseSource(nameof(Outputs))]
    public void SerializeState_IdentityRoundTrip_StaysIdentity(OutputDefinition output)
    {
        var identity = output.CreateAccumulator();

        var copy = RoundTrip(output, identity);

        Assert.That(State(copy), Is.EqualTo(State(identity)));
    }

    [TestCaseSource(nameof(Outputs))]
    public void Clone_ThenAdd_LeavesOriginalUnchanged(OutputDefinition output)
    {
        var original = AddAll(output, First);
        var before = State(original);

        var copy = original.Clone();
        foreach (var e in Second)
        {
            copy.Add(e);
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(State(original), Is.EqualTo(before), "original");
            Assert.That(State(copy), Is.EqualTo(State(AddAll(output, First.Concat(Second)))), "copy");
        }
    }

    /// <summary>The accumulator contract: adding values already seen must not allocate.</summary>
    [TestCaseSource(nameof(Outputs))]
    public void Add_WarmValues_AllocatesNothing(OutputDefinition output)
    {
        var accumulator = AddAll(output, First);
        foreach (var e in First)
        {
            accumulator.Add(e);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        foreach (var e in First)
        {
            accumulator.Add(e);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.That(allocated, Is.Zero);
    }
}
