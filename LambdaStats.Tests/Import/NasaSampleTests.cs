using System.Security.Cryptography;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.Events.Import;

namespace LambdaStats.Tests.Import;

/// <summary>
/// Parses and maps the NASA Kennedy Space Center log of 1 August 1995 in samples/, 30,969 lines
/// of Common Log Format.
/// </summary>
public sealed class NasaSampleTests
{
    private const string SampleFolder = "samples/nasa-ksc-1995-08-01";
    private const int LineCount = 30_969;

    [Test]
    public void SampleFile_MatchesSha256Sums()
    {
        var folder = FindSampleFolder();
        var expected = File.ReadAllText(Path.Combine(folder, "SHA256SUMS")).Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];

        var actual = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(folder, "access.log.gz"))));

        Assert.That(actual, Is.EqualTo(expected));
    }

    [Test]
    public async Task ParseAndMap_SampleFile_CountsAddUpToEveryLine()
    {
        var counts = await ParseAndMapAsync();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(counts.Lines, Is.EqualTo(LineCount));
            Assert.That(counts.Rejected, Is.Empty);
            Assert.That(counts.Opened + counts.Downloaded + counts.Skipped.Values.Sum(), Is.EqualTo(LineCount));
            Assert.That(counts.Opened, Is.EqualTo(8_975));
            Assert.That(counts.Downloaded, Is.EqualTo(19_339));
            Assert.That(counts.Skipped.GetValueOrDefault("status 302"), Is.EqualTo(355));
            Assert.That(counts.Skipped.GetValueOrDefault("status 304"), Is.EqualTo(1_983));
            Assert.That(counts.Skipped.GetValueOrDefault("status 404"), Is.EqualTo(221));
            Assert.That(counts.Skipped.GetValueOrDefault("method HEAD"), Is.EqualTo(95));
            Assert.That(counts.Skipped.GetValueOrDefault("method POST"), Is.EqualTo(1));
            Assert.That(counts.Ids, Has.Count.EqualTo(counts.Opened + counts.Downloaded), "event ids must be unique");
        }
    }

    [Test]
    public async Task ParseAndMap_SampleFile_ShuttleOpenedMatchesStringSplitCount()
    {
        var counts = await ParseAndMapAsync();
        var expected = await CountShuttleOpenedBySplittingAsync();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(counts.ShuttleOpened, Is.EqualTo(expected));

            // awk over the same file, with the document rule written a third way, counted 4318.
            Assert.That(expected, Is.EqualTo(4_318));
        }
    }

    /// <summary>
    /// Counts GET requests for /shuttle/ documents with status 2xx or 304 by splitting each line
    /// on spaces, without the parser or the mapper. The sample has no spaces inside requests.
    /// </summary>
    internal static async Task<int> CountShuttleOpenedBySplittingAsync()
    {
        string[] documentExtensions = [".html", ".htm", ".shtml", ".txt", ".pdf"];
        var count = 0;
        await foreach (var line in ReadSampleAsync())
        {
            var fields = line.Text.Split(' ');
            var method = fields[5];
            var path = fields[6].Split('?')[0].Split('#')[0];
            var status = fields[8];
            var fileName = path[(path.LastIndexOf('/') + 1)..];
            var isDocument = fileName.Length == 0
                || !fileName.Contains('.', StringComparison.Ordinal)
                || documentExtensions.Contains(Path.GetExtension(fileName).ToLowerInvariant());
            var isOpened = status.StartsWith('2') || status == "304";
            if (method == "\"GET" && path.StartsWith("/shuttle/", StringComparison.Ordinal) && isDocument && isOpened)
            {
                count++;
            }
        }

        return count;
    }

    private static async Task<SampleCounts> ParseAndMapAsync()
    {
        var counts = new SampleCounts();
        await foreach (var line in ReadSampleAsync())
        {
            counts.Lines++;
            if (!AccessLogParser.TryParse(line.Text, out var entry, out var error))
            {
                counts.Rejected.Add($"line {line.Number}: {error}");
                continue;
            }

            var mapping = AccessLogMapper.Map(entry, line.Number, line.Text);
            if (mapping.Event is not { } mapped)
            {
                counts.Skipped[mapping.SkipReason!] = counts.Skipped.GetValueOrDefault(mapping.SkipReason!) + 1;
                continue;
            }

            counts.Ids.Add(mapped.Id);
            if (mapped.Type == EventType.MediaOpened)
            {
                counts.Opened++;
                if (mapped.HubId == "shuttle")
                {
                    counts.ShuttleOpened++;
                }
            }
            else
            {
                counts.Downloaded++;
            }
        }

        return counts;
    }

    private static async IAsyncEnumerable<ImportLine> ReadSampleAsync()
    {
        await using var source = ImportSource.Open(Path.Combine(FindSampleFolder(), "access.log.gz"));
        await foreach (var line in source.ReadLinesAsync())
        {
            yield return line;
        }
    }

    /// <summary>Walks up from the test output folder to the repository folder that contains the sample.</summary>
    internal static string FindSampleFolder()
    {
        for (var folder = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); folder is not null; folder = folder.Parent)
        {
            var candidate = Path.Combine(folder.FullName, SampleFolder);
            if (File.Exists(Path.Combine(candidate, "access.log.gz")))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"No {SampleFolder}/access.log.gz above {TestContext.CurrentContext.TestDirectory}.");
    }

    private sealed class SampleCounts
    {
        public int Lines { get; set; }

        public int Opened { get; set; }

        public int Downloaded { get; set; }

        public int ShuttleOpened { get; set; }

        public Dictionary<string, int> Skipped { get; } = new(StringComparer.Ordinal);

        public List<string> Rejected { get; } = [];

        public HashSet<string> Ids { get; } = new(StringComparer.Ordinal);
    }
}
