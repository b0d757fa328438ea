using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Aggregation.Columns;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Tests.Storage;

namespace LambdaStats.Tests.Aggregation;

/// <summary>
/// The append-only record file behind spilled pair columns: chains that cross the 64 KiB write
/// buffer and read blocks, reads between appends, and rows with many records of the same pair.
/// </summary>
[TestFixture]
public sealed class PairRecordFileTests
{
    private TemporaryDirectory directory = null!;

    [SetUp]
    public void SetUp() => directory = new TemporaryDirectory();

    [TearDown]
    public void TearDown() => directory.Dispose();

    [TestCase(false)]
    [TestCase(true)]
    public void ReadRow_ChainAcrossFlushes_InAppendOrder(bool withAmounts)
    {
        // 30,000 records of 8 or 16 bytes fill the 64 KiB write buffer 3 or 7 times.
        const int Rows = 7;
        var path = Path.Combine(directory.Path, "chain.pairs");
        using var file = PairRecordFile.Create(path, withAmounts);
        file.EnsureRows(Rows);
        var expected = Enumerable.Range(0, Rows).Select(_ => new List<(int, double)>()).ToArray();
        var random = new Random(3);
        for (var i = 0; i < 30_000; i++)
        {
            // Row 0 gets half the records, so its chain has both near and far links.
            var row = random.Next(2) == 0 ? 0 : random.Next(1, Rows);
            var amount = withAmounts ? random.NextDouble() : 0;
            file.Append(row, i, amount);
            expected[row].Add((i, amount));
        }

        for (var row = 0; row < Rows; row++)
        {
            var count = file.ReadRow(row);

            Assert.That(count, Is.EqualTo(expected[row].Count), $"row {row}");
            Assert.That(file.RowNumbers.ToArray(), Is.EqualTo(expected[row].Select(record => record.Item1).ToArray()), $"row {row}");
            Assert.That(file.RowAmounts.ToArray(), Is.EqualTo(expected[row].Select(record => record.Item2).ToArray()), $"row {row}");
        }

        Assert.That(file.Length, Is.EqualTo(30_000L * (withAmounts ? 16 : 8)));
        Assert.That(new FileInfo(path).Length, Is.LessThanOrEqualTo(file.Length), "the last records may still be in the write buffer");
    }

    [Test]
    public void Unmap_ThenReadRow_MapsAgain()
    {
        using var file = PairRecordFile.Create(Path.Combine(directory.Path, "unmap.pairs"), withAmounts: false);
        file.EnsureRows(2);

        // 20,000 records of 8 bytes pass the 64 KiB write buffer, so reads go through the mapping.
        for (var i = 0; i < 20_000; i++)
        {
            file.Append(i % 2, i, 0);
        }

        file.ReadRow(0);
        var mappedAfterRead = file.IsMapped;
        file.Unmap();
        var mappedAfterUnmap = file.IsMapped;
        var count = file.ReadRow(0);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(mappedAfterRead, Is.True, "a read of written records maps the file");
            Assert.That(mappedAfterUnmap, Is.False);
            Assert.That(count, Is.EqualTo(10_000));
            Assert.That(file.RowNumbers.ToArray(), Is.EqualTo(Enumerable.Range(0, 10_000).Select(i => 2 * i).ToArray()));
            Assert.That(file.IsMapped, Is.True, "the read after the unmap maps the file again");
        }
    }

    [Test]
    public void ReadRow_BetweenAppends_SeesNewRecords()
    {
        using var file = PairRecordFile.Create(Path.Combine(directory.Path, "reads.pairs"), withAmounts: false);
        file.EnsureRows(2);
        var expected = new List<int>();
        var next = 0;

        // The write buffer fills every two or three rounds, so each read follows links from the
        // buffer into the file, and the cached read block must not hide the records written since.
        for (var round = 0; round < 12; round++)
        {
            for (var i = 0; i < 3_001; i++)
            {
                file.Append(1, next);
                if (i % 7 == 0)
                {
                    file.Append(0, next);
                    expected.Add(next);
                }

                next++;
            }

            file.ReadRow(0);

            Assert.That(file.RowNumbers.ToArray(), Is.EqualTo(expected), $"round {round}");
        }
    }

    [Test]
    public void RewriteRow_LaterAppends_FollowNewChain()
    {
        using var file = PairRecordFile.Create(Path.Combine(directory.Path, "rewrite.pairs"), withAmounts: true);
        file.EnsureRows(2);
        file.Append(0, 5, 1.5);
        file.Append(1, 9, 2.0);
        file.Append(0, 6, 0.25);

        file.RewriteRow(0, [6], [3.0]);
        file.Append(0, 5, 4.0);
        var count = file.ReadRow(0);

        Assert.That(count, Is.EqualTo(2));
        Assert.That(file.RowNumbers.ToArray(), Is.EqualTo(new[] { 6, 5 }));
        Assert.That(file.RowAmounts.ToArray(), Is.EqualTo(new[] { 3.0, 4.0 }));
        Assert.That(file.ReadRow(1), Is.EqualTo(1), "another row keeps its chain");
    }

    [Test]
    public void Dispose_DeletesFile()
    {
        var path = Path.Combine(directory.Path, "deleted.pairs");
        var file = PairRecordFile.Create(path, withAmounts: false);
        file.EnsureRows(1);
        file.Append(0, 1);

        file.Dispose();

        Assert.That(File.Exists(path), Is.False);
    }

    [Test]
    public void DistinctHotRow_ManyDuplicates_StaysSmall()
    {
        var scratch = new PairScratch(directory.Path, pairsInMemory: 5);
        var column = new DistinctValuesColumn(EventField.VisitorId, new RowStringPool(), scratch);
        var expected = new ExactDistinctCountAccumulator(EventField.VisitorId);
        column.AddRow();
        column.AddRow();

        // 200,000 events of row 1 over 40 visitors, with a read every 10,000 events.
        for (var i = 0; i < 200_000; i++)
        {
            var e = Event(i, visitor: $"v{(i * 7) % 40}", page: 1, seconds: 1);
            column.Add(1, e);
            expected.Add(e);
            if (i % 10_000 == 9_999)
            {
                var actual = (ExactDistinctCountAccumulator)column.ToAccumulator(1);
                Assert.That(actual.Values, Is.EquivalentTo(expected.Values), $"after event {i}");
            }
        }

        Assert.That(column.IsSpilled, Is.True);
        Assert.That(column.ScratchRecordCount, Is.LessThan(1_000), "the cache of recent pairs drops repeats");
        Assert.That(((ExactDistinctCountAccumulator)column.ToAccumulator(0)).Values, Is.Empty);
        column.DeleteScratchFile();
    }

    [Test]
    public void ProjectionHotRow_ManyEvents_RewritesChain()
    {
        var scratch = new PairScratch(directory.Path, pairsInMemory: 2);
        var column = new ProjectionColumn(EventField.Page, EventField.DurationSeconds, new RowStringPool(), scratch);
        var expected = new ProjectionAddAccumulator(EventField.Page, EventField.DurationSeconds);
        column.AddRow();
        var random = new Random(11);

        // 100,000 events over 6 pages, with a read every 5,000 events.
        for (var i = 0; i < 100_000; i++)
        {
            var e = Event(i, visitor: "v", page: 1 + random.Next(6), seconds: random.NextDouble() * 300);
            column.Add(0, e);
            expected.Add(e);
            if (i % 5_000 == 4_999)
            {
                var actual = (ProjectionAddAccumulator)column.ToAccumulator(0);
                Assert.That(SpilledColumnTests.GroupBits(actual), Is.EqualTo(SpilledColumnTests.GroupBits(expected)), $"after event {i}");
            }
        }

        Assert.That(column.IsSpilled, Is.True);

        // Every event after the spill appends a record, and each of the 20 reads appends one record per page.
        Assert.That(column.ScratchRecordCount, Is.InRange(100_000 - 20, 100_000 + (20 * 6) + 2));
        column.DeleteScratchFile();
        Assert.That(scratch.ListFiles(), Is.Empty);
    }

    private static LambdaEvent Event(int i, string visitor, int page, double seconds) => new()
    {
        Id = $"e{i}",
        Type = EventType.PageViewed,
        OccurredAt = ColumnTestEvents.Hour,
        HubId = "h1",
        VisitorId = visitor,
        Page = page,
        DurationSeconds = seconds,
    };
}
