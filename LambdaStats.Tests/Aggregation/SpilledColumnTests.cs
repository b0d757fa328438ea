using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Aggregation.Columns;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Tests.Storage;

namespace LambdaStats.Tests.Aggregation;

/// <summary>
/// With a budget of a few pairs, the projectionAdd and exact distinctCount columns move their
/// pairs to a scratch file. Every row must still equal the accumulator fed with its events, before
/// and after that moment: same values, same groups in the same order, bit-identical sums.
/// </summary>
[TestFixture]
public sealed class SpilledColumnTests
{
    private const int Rows = 300;

    private TemporaryDirectory directory = null!;
    private PairScratch scratch = null!;

    [SetUp]
    public void SetUp()
    {
        directory = new TemporaryDirectory();
        scratch = new PairScratch(Path.Combine(directory.Path, "speed"), pairsInMemory: 500);
    }

    [TearDown]
    public void TearDown() => directory.Dispose();

    [TestCase(EventField.VisitorId, 5_000, 1)]
    [TestCase(EventField.VisitorId, 20, 2)]
    [TestCase(EventField.Network, 10, 3)]
    public void DistinctRows_AcrossSpill_EqualAccumulators(EventField field, int visitors, int seed)
    {
        var column = new DistinctValuesColumn(field, new RowStringPool(), scratch);
        var expected = new ExactDistinctCountAccumulator[Rows];
        for (var row = 0; row < Rows; row++)
        {
            column.AddRow();
            expected[row] = new ExactDistinctCountAccumulator(field);
        }

        var events = ColumnTestEvents.Create(seed, 12_000, Rows, maxPage: 12, visitors);
        var checkpoints = 0;
        for (var i = 0; i < events.Count; i++)
        {
            var (row, e) = events[i];
            column.Add(row, e);
            expected[row].Add(e);
            if (i % 1_500 == 0 || i == events.Count - 1)
            {
                checkpoints++;
                for (var checkedRow = 0; checkedRow < Rows; checkedRow++)
                {
                    var actual = (ExactDistinctCountAccumulator)column.ToAccumulator(checkedRow);
                    Assert.That(actual.Values, Is.EquivalentTo(expected[checkedRow].Values), $"row {checkedRow} after event {i}");
                }

                Assert.That(column.PairCount, Is.EqualTo(expected.Sum(accumulator => (long)accumulator.Values.Count)), $"after event {i}");
            }
        }

        var pairs = expected.Sum(accumulator => accumulator.Values.Count);
        Assert.That(column.IsSpilled, Is.EqualTo(pairs >= scratch.PairsInMemory));
        Assert.That(scratch.ListFiles(), Has.Count.EqualTo(column.IsSpilled ? 1 : 0));
        Assert.That(checkpoints, Is.GreaterThan(2));

        column.DeleteScratchFile();
        Assert.That(scratch.ListFiles(), Is.Empty);
    }

    [TestCase(EventField.Page, EventField.DurationSeconds, 12, 1)]
    [TestCase(EventField.Page, null, 40, 2)]
    [TestCase(EventField.Page, EventField.DurationSeconds, 9_000, 3)]
    [TestCase(EventField.Network, EventField.DurationSeconds, 12, 4)]
    public void ProjectionRows_AcrossSpill_EqualAccumulators(EventField groupBy, EventField? field, int maxPage, int seed)
    {
        var column = new ProjectionColumn(groupBy, field, new RowStringPool(), scratch);
        var expected = new ProjectionAddAccumulator[Rows];
        for (var row = 0; row < Rows; row++)
        {
            column.AddRow();
            expected[row] = new ProjectionAddAccumulator(groupBy, field);
        }

        var events = ColumnTestEvents.Create(seed, 12_000, Rows, maxPage, visitors: 10);
        for (var i = 0; i < events.Count; i++)
        {
            var (row, e) = events[i];
            column.Add(row, e);
            expected[row].Add(e);
            if (i % 1_500 == 0 || i == events.Count - 1)
            {
                for (var checkedRow = 0; checkedRow < Rows; checkedRow++)
                {
                    var actual = (ProjectionAddAccumulator)column.ToAccumulator(checkedRow);
                    Assert.That(GroupBits(actual), Is.EqualTo(GroupBits(expected[checkedRow])), $"row {checkedRow} after event {i}");
                }

                Assert.That(column.PairCount, Is.EqualTo(expected.Sum(accumulator => (long)accumulator.Groups.Count)), $"after event {i}");
            }
        }

        Assert.That(column.IsSpilled, Is.True);
        column.DeleteScratchFile();
        Assert.That(scratch.ListFiles(), Is.Empty);
    }

    [Test]
    public void ProjectionSum_NegativeZero_StoresPositiveZero()
    {
        var tiny = new PairScratch(scratch.Directory, pairsInMemory: 1);
        var column = new ProjectionColumn(EventField.Page, EventField.DurationSeconds, new RowStringPool(), tiny);
        var expected = new ProjectionAddAccumulator(EventField.Page, EventField.DurationSeconds);
        column.AddRow();

        // The first pair spills the column, so the second group is created in the scratch file.
        foreach (var (page, seconds) in new[] { (1, -0.0), (2, -0.0), (2, -0.0), (1, 0.1), (3, 1e-300) })
        {
            var e = new LambdaEvent { Id = $"e{page}", Type = EventType.PageViewed, OccurredAt = ColumnTestEvents.Hour, HubId = "h1", Page = page, DurationSeconds = seconds };
            column.Add(0, e);
            expected.Add(e);
        }

        var actual = (ProjectionAddAccumulator)column.ToAccumulator(0);
        Assert.That(column.IsSpilled, Is.True);
        Assert.That(GroupBits(actual), Is.EqualTo(GroupBits(expected)));
        Assert.That(BitConverter.DoubleToInt64Bits(actual.Groups["2"]), Is.Zero, "0 + -0.0 + -0.0 is +0.0");
        column.DeleteScratchFile();
    }

    [Test]
    public void PairScratch_DeleteFiles_RemovesLeftFiles()
    {
        var column = new DistinctValuesColumn(EventField.VisitorId, new RowStringPool(), new PairScratch(scratch.Directory, pairsInMemory: 1));
        column.AddRow();
        column.Add(0, new LambdaEvent { Id = "e", Type = EventType.MediaOpened, OccurredAt = ColumnTestEvents.Hour, HubId = "h1", VisitorId = "v1" });
        Assert.That(scratch.ListFiles(), Has.Count.EqualTo(1));

        // A file left by a process that stopped without releasing its hour.
        var deleted = scratch.DeleteFiles();

        Assert.That(deleted, Is.EqualTo(1));
        Assert.That(scratch.ListFiles(), Is.Empty);
        column.DeleteScratchFile();
    }

    [Test]
    public void DeleteFiles_UndeletableFile_Skipped()
    {
        Directory.CreateDirectory(scratch.Directory);
        var stuck = Path.Combine(scratch.Directory, "stuck.db");
        var other = Path.Combine(scratch.Directory, "other.db");
        File.WriteAllText(stuck, "");
        File.WriteAllText(other, "");

        // The immutable attribute makes the delete fail even for root, as a read-only disk would.
        if (!RunChattr("+i", stuck))
        {
            Assert.Inconclusive("chattr +i is not available on this file system.");
        }

        try
        {
            var deleted = scratch.DeleteFiles();

            Assert.That(deleted, Is.EqualTo(1));
            Assert.That(scratch.ListFiles(), Is.EqualTo(new[] { stuck }));
        }
        finally
        {
            RunChattr("-i", stuck);
        }
    }

    [Test]
    public void EnsureWritable_WritableDirectory_LeavesNoFile()
    {
        scratch.EnsureWritable();

        Assert.That(Directory.GetFileSystemEntries(scratch.Directory), Is.Empty);
    }

    [Test]
    public void EnsureWritable_ImmutableDirectory_NamesDirectory()
    {
        Directory.CreateDirectory(scratch.Directory);

        // The immutable attribute makes file creation fail even for root, as a read-only mount would.
        if (!RunChattr("+i", scratch.Directory))
        {
            Assert.Inconclusive("chattr +i is not available on this file system.");
        }

        try
        {
            var exception = Assert.Throws<InvalidOperationException>(scratch.EnsureWritable);

            Assert.That(exception.Message, Does.StartWith($"The speed layer's scratch directory '{scratch.Directory}' is not writable: "));
        }
        finally
        {
            RunChattr("-i", scratch.Directory);
        }
    }

    /// <summary>The groups in their order, each sum as its IEEE 754 bits.</summary>
    internal static List<(string Group, long Bits)> GroupBits(ProjectionAddAccumulator accumulator) =>
        accumulator.Groups.Select(pair => (pair.Key, BitConverter.DoubleToInt64Bits(pair.Value))).ToList();

    private static bool RunChattr(string change, string path)
    {
        try
        {
            using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("chattr", [change, path]) { RedirectStandardError = true })!;
            process.WaitForExit();
            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
