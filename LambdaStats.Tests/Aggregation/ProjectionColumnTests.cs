using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Aggregation.Columns;
using LambdaStats.Modules.Events.Contracts;

namespace LambdaStats.Tests.Aggregation;

/// <summary>
/// The projectionAdd column must hold, for every row, the groups and sums that a
/// <see cref="ProjectionAddAccumulator"/> fed with the row's events holds: same groups in the
/// same order, bit-identical sums.
/// </summary>
[TestFixture]
public sealed class ProjectionColumnTests
{
    [TestCase(EventField.Page, EventField.DurationSeconds, 12, 1)]
    [TestCase(EventField.Page, null, 40, 2)]
    [TestCase(EventField.Page, EventField.DurationSeconds, 9_000, 3)]
    [TestCase(EventField.Network, null, 12, 4)]
    [TestCase(EventField.Network, EventField.DurationSeconds, 12, 5)]
    public void Rows_RandomEvents_EqualAccumulators(EventField groupBy, EventField? field, int maxPage, int seed)
    {
        var pool = new RowStringPool();
        var column = new ProjectionColumn(groupBy, field, pool);
        var events = ColumnTestEvents.Create(seed, 20_000, rows: 300, maxPage, visitors: 10);
        var expected = new ProjectionAddAccumulator[300];

        for (var row = 0; row < expected.Length; row++)
        {
            column.AddRow();
            expected[row] = new ProjectionAddAccumulator(groupBy, field);
        }

        foreach (var (row, e) in events)
        {
            column.Add(row, e);
            expected[row].Add(e);
        }

        for (var row = 0; row < expected.Length; row++)
        {
            var actual = (ProjectionAddAccumulator)column.ToAccumulator(row);
            Assert.That(GroupsOf(actual), Is.EqualTo(GroupsOf(expected[row])), $"row {row}");
        }

        Assert.That(column.PairCount, Is.EqualTo(expected.Sum(accumulator => accumulator.Groups.Count)));
    }

    [Test]
    public void Add_RowsInTurn_KeepsFewUnusedPlaces()
    {
        var column = new ProjectionColumn(EventField.Page, null, new RowStringPool());
        for (var row = 0; row < 1_000; row++)
        {
            column.AddRow();
        }

        // Each round gives every row one more group, so every slice moves once per round.
        for (var page = 1; page <= 20; page++)
        {
            for (var row = 0; row < 1_000; row++)
            {
                column.Add(row, new LambdaEvent { Id = "e", Type = EventType.PageViewed, OccurredAt = ColumnTestEvents.Hour, HubId = "h1", Page = page });
            }

            Assert.That(column.UnusedPlaces * 8, Is.LessThanOrEqualTo(column.PairCount + 20), $"after page {page}");
        }

        Assert.That(column.PairCount, Is.EqualTo(20_000));
        Assert.That(GroupsOf((ProjectionAddAccumulator)column.ToAccumulator(999)).Select(pair => pair.Key), Is.EqualTo(Enumerable.Range(1, 20).Select(page => page.ToString(System.Globalization.CultureInfo.InvariantCulture))));
    }

    [Test]
    public void ReleaseStrings_DropsEveryGroupName()
    {
        var pool = new RowStringPool();
        var column = new ProjectionColumn(EventField.Network, null, pool);
        var events = ColumnTestEvents.Create(6, 500, rows: 20, maxPage: 5, visitors: 10);
        for (var row = 0; row < 20; row++)
        {
            column.AddRow();
        }

        foreach (var (row, e) in events)
        {
            column.Add(row, e);
        }

        Assert.That(pool.Count, Is.EqualTo(events.Select(pair => pair.Event.Network).OfType<string>().Distinct().Count()));
        column.ReleaseStrings();
        Assert.That(pool.Count, Is.Zero);
    }

    [Test]
    public void ToAccumulator_RowWithoutGroups_IsEmpty()
    {
        var column = new ProjectionColumn(EventField.Page, EventField.DurationSeconds, new RowStringPool());
        column.AddRow();
        column.AddRow();

        column.Add(1, new LambdaEvent { Id = "e", Type = EventType.PageViewed, OccurredAt = ColumnTestEvents.Hour, HubId = "h1", Page = 2, DurationSeconds = 1.5 });
        column.Add(0, new LambdaEvent { Id = "f", Type = EventType.PageViewed, OccurredAt = ColumnTestEvents.Hour, HubId = "h1", Page = 2 });

        Assert.That(((ProjectionAddAccumulator)column.ToAccumulator(0)).Groups, Is.Empty, "an event without the summed field adds no group");
        Assert.That(((ProjectionAddAccumulator)column.ToAccumulator(1)).Groups["2"], Is.EqualTo(1.5));
    }

    /// <summary>Groups in enumeration order, with each sum's bits, so order and rounding both count.</summary>
    private static List<KeyValuePair<string, long>> GroupsOf(ProjectionAddAccumulator accumulator) =>
        accumulator.Groups.Select(pair => new KeyValuePair<string, long>(pair.Key, BitConverter.DoubleToInt64Bits(pair.Value))).ToList();
}
