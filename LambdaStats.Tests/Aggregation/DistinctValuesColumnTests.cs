using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Aggregation.Columns;
using LambdaStats.Modules.Events.Contracts;

namespace LambdaStats.Tests.Aggregation;

/// <summary>
/// The exact distinctCount column must hold, for every row, the set of values that an
/// <see cref="ExactDistinctCountAccumulator"/> fed with the row's events holds.
/// </summary>
[TestFixture]
public sealed class DistinctValuesColumnTests
{
    [TestCase(EventField.VisitorId, 10, 1)]
    [TestCase(EventField.VisitorId, 5_000, 2)]
    [TestCase(EventField.Network, 10, 3)]
    public void Rows_RandomEvents_EqualAccumulators(EventField field, int visitors, int seed)
    {
        var column = new DistinctValuesColumn(field, new RowStringPool());
        var events = ColumnTestEvents.Create(seed, 30_000, rows: 500, maxPage: 12, visitors);
        var expected = new ExactDistinctCountAccumulator[500];
        for (var row = 0; row < expected.Length; row++)
        {
            column.AddRow();
            expected[row] = new ExactDistinctCountAccumulator(field);
        }

        foreach (var (row, e) in events)
        {
            column.Add(row, e);
            expected[row].Add(e);
        }

        for (var row = 0; row < expected.Length; row++)
        {
            var actual = (ExactDistinctCountAccumulator)column.ToAccumulator(row);
            Assert.That(actual.Values, Is.EquivalentTo(expected[row].Values), $"row {row}");
        }

        Assert.That(column.PairCount, Is.EqualTo(expected.Sum(accumulator => accumulator.Values.Count)));
    }

    [Test]
    public void ToAccumulator_ReturnsIndependentCopy()
    {
        var column = new DistinctValuesColumn(EventField.VisitorId, new RowStringPool());
        column.AddRow();
        column.Add(0, Visit("v1"));

        var copy = column.ToAccumulator(0);
        copy.Add(Visit("v2"));
        column.Add(0, Visit("v3"));

        Assert.That(((ExactDistinctCountAccumulator)column.ToAccumulator(0)).Values, Is.EquivalentTo(new[] { "v1", "v3" }));
        Assert.That(((ExactDistinctCountAccumulator)copy).Values, Is.EquivalentTo(new[] { "v1", "v2" }));
    }

    [Test]
    public void ReleaseStrings_DropsEveryValue()
    {
        var pool = new RowStringPool();
        var column = new DistinctValuesColumn(EventField.VisitorId, pool);
        column.AddRow();
        column.AddRow();
        column.Add(0, Visit("v1"));
        column.Add(1, Visit("v1"));
        column.Add(1, Visit("v2"));
        column.Add(1, new LambdaEvent { Id = "e", Type = EventType.MediaOpened, OccurredAt = ColumnTestEvents.Hour, HubId = "h1" });

        Assert.That(pool.Count, Is.EqualTo(2));
        column.ReleaseStrings();
        Assert.That(pool.Count, Is.Zero);
    }

    private static LambdaEvent Visit(string visitor) =>
        new() { Id = "e-" + visitor, Type = EventType.MediaOpened, OccurredAt = ColumnTestEvents.Hour, HubId = "h1", VisitorId = new string(visitor.AsSpan()) };
}
