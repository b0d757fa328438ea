using System.Text.Json;
using LambdaStats.Modules.Events.Import;

namespace LambdaStats.Tests.Import;

public sealed class JsonLinesReaderTests
{
    [Test]
    public void ParseLine_EventObject_ReturnsElement()
    {
        var parsed = JsonLinesReader.ParseLine(new ImportLine(3, "{\"id\":\"e1\",\"type\":\"HubVisited\"}"));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(parsed.LineNumber, Is.EqualTo(3));
            Assert.That(parsed.Error, Is.Null);
            Assert.That(parsed.SkipReason, Is.Null);
            Assert.That(parsed.Element?.GetProperty("id").GetString(), Is.EqualTo("e1"));
        }
    }

    [Test]
    public void ParseLine_NonObjectValue_LeavesValidationToPipeline()
    {
        var parsed = JsonLinesReader.ParseLine(new ImportLine(1, "42"));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(parsed.Error, Is.Null);
            Assert.That(parsed.Element?.ValueKind, Is.EqualTo(JsonValueKind.Number));
        }
    }

    [TestCase("")]
    [TestCase("   ")]
    [TestCase("\t")]
    public void ParseLine_BlankLine_IsSkippedWithReason(string text)
    {
        var parsed = JsonLinesReader.ParseLine(new ImportLine(5, text));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(parsed.Element, Is.Null);
            Assert.That(parsed.Error, Is.Null);
            Assert.That(parsed.SkipReason, Is.EqualTo(JsonLinesReader.BlankLineReason));
        }
    }

    [TestCase("{\"id\":")]
    [TestCase("not json")]
    [TestCase("{\"a\":1} {\"b\":2}")]
    public void ParseLine_InvalidJson_ReturnsErrorWithLineNumber(string text)
    {
        var parsed = JsonLinesReader.ParseLine(new ImportLine(17, text));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(parsed.Element, Is.Null);
            Assert.That(parsed.SkipReason, Is.Null);
            Assert.That(parsed.LineNumber, Is.EqualTo(17));
            Assert.That(parsed.Error, Does.StartWith("invalid JSON at line 17: "));
        }
    }

    [Test]
    public async Task ReadAsync_Lines_ParsesEachInOrder()
    {
        var lines = ToAsync(new ImportLine(1, "{}"), new ImportLine(2, ""), new ImportLine(3, "{"));

        var parsed = new List<JsonLine>();
        await foreach (var line in JsonLinesReader.ReadAsync(lines))
        {
            parsed.Add(line);
        }

        Assert.That(parsed, Has.Count.EqualTo(3));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(parsed[0].Element, Is.Not.Null);
            Assert.That(parsed[1].SkipReason, Is.EqualTo(JsonLinesReader.BlankLineReason));
            Assert.That(parsed[2].Error, Does.StartWith("invalid JSON at line 3"));
        }
    }

    private static async IAsyncEnumerable<ImportLine> ToAsync(params ImportLine[] lines)
    {
        foreach (var line in lines)
        {
            await Task.Yield();
            yield return line;
        }
    }
}
