using System.IO.Compression;
using System.Text;
using LambdaStats.Modules.Events.Import;

namespace LambdaStats.Tests.Import;

public sealed class ImportSourceTests
{
    private string folder = string.Empty;

    [SetUp]
    public void CreateFolder()
    {
        folder = Path.Combine(Path.GetTempPath(), "lambdastats-import-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
    }

    [TearDown]
    public void DeleteFolder() => Directory.Delete(folder, recursive: true);

    [Test]
    public async Task ReadLinesAsync_PlainFile_NumbersLinesFromOne()
    {
        var path = Path.Combine(folder, "access.log");
        await File.WriteAllTextAsync(path, "first\r\nsecond\n\nfourth\n");

        await using var source = ImportSource.Open(path);
        var lines = await ReadAllAsync(source);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(source.IsCompressed, Is.False);
            Assert.That(lines, Is.EqualTo(new[]
            {
                new ImportLine(1, "first"),
                new ImportLine(2, "second"),
                new ImportLine(3, ""),
                new ImportLine(4, "fourth"),
            }));
        }
    }

    [Test]
    public async Task ReadLinesAsync_GzExtension_Decompresses()
    {
        var path = Path.Combine(folder, "access.log.gz");
        await WriteGzipAsync(path, "a\nb\n");

        await using var source = ImportSource.Open(path);
        var lines = await ReadAllAsync(source);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(source.IsCompressed, Is.True);
            Assert.That(lines.Select(line => line.Text), Is.EqualTo(new[] { "a", "b" }));
        }
    }

    [Test]
    public async Task ReadLinesAsync_GzipMagicWithoutExtension_Decompresses()
    {
        var path = Path.Combine(folder, "access.log");
        await WriteGzipAsync(path, "compressed line");

        await using var source = ImportSource.Open(path);
        var lines = await ReadAllAsync(source);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(source.IsCompressed, Is.True);
            Assert.That(lines, Is.EqualTo(new[] { new ImportLine(1, "compressed line") }));
        }
    }

    [Test]
    public async Task ReadLinesAsync_Utf8Bom_IsNotPartOfFirstLine()
    {
        var path = Path.Combine(folder, "events.jsonl");
        await File.WriteAllTextAsync(path, "{}\n", new UTF8Encoding(encoderShouldEmitUTF8Identifier: true));

        await using var source = ImportSource.Open(path);
        var lines = await ReadAllAsync(source);

        Assert.That(lines, Is.EqualTo(new[] { new ImportLine(1, "{}") }));
    }

    [Test]
    public void ReadLinesAsync_GzExtensionWithPlainContent_ThrowsInvalidData()
    {
        var path = Path.Combine(folder, "plain.gz");
        File.WriteAllText(path, "this is not gzip\n");

        Assert.ThrowsAsync<InvalidDataException>(async () =>
        {
            await using var source = ImportSource.Open(path);
            await ReadAllAsync(source);
        });
    }

    [Test]
    public void Open_MissingFile_ThrowsFileNotFound()
    {
        Assert.Throws<FileNotFoundException>(() => ImportSource.Open(Path.Combine(folder, "missing.log")));
    }

    private static async Task WriteGzipAsync(string path, string text)
    {
        await using var file = File.Create(path);
        await using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        await gzip.WriteAsync(Encoding.UTF8.GetBytes(text));
    }

    private static async Task<List<ImportLine>> ReadAllAsync(ImportSource source)
    {
        var lines = new List<ImportLine>();
        await foreach (var line in source.ReadLinesAsync())
        {
            lines.Add(line);
        }

        return lines;
    }
}
