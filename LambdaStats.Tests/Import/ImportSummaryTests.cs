using LambdaStats.Modules.Events.Import;

namespace LambdaStats.Tests.Import;

public sealed class ImportSummaryTests
{
    [Test]
    public void IsBalanced_EveryLineCounted_ReturnsTrue()
    {
        var summary = new ImportSummary();
        for (var i = 0; i < 7; i++)
        {
            summary.AddLineRead();
        }

        summary.AddStored(accepted: 2, duplicates: 1);
        summary.AddSkipped("status 404");
        summary.AddSkipped("status 404");
        summary.AddRejected(5, "status: missing");
        summary.AddUnconfirmed(1);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(summary.IsBalanced, Is.True);
            Assert.That(summary.Skipped, Is.EqualTo(2));
            Assert.That(summary.SkippedByReason["status 404"], Is.EqualTo(2));
        }
    }

    [Test]
    public void IsBalanced_LineNotCounted_ReturnsFalse()
    {
        var summary = new ImportSummary();
        summary.AddLineRead();
        summary.AddLineRead();
        summary.AddSkipped("blank line");

        Assert.That(summary.IsBalanced, Is.False);
    }

    [Test]
    public void AddRejected_MoreThanTen_KeepsFirstTenAndCountsAll()
    {
        var summary = new ImportSummary();
        for (var line = 1; line <= 25; line++)
        {
            summary.AddRejected(line, $"reason {line}");
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(summary.Rejected, Is.EqualTo(25));
            Assert.That(summary.FirstRejections, Has.Count.EqualTo(ImportSummary.MaxListedRejections));
            Assert.That(summary.FirstRejections[0], Is.EqualTo(new ImportRejection(1, "reason 1")));
            Assert.That(summary.FirstRejections[^1], Is.EqualTo(new ImportRejection(10, "reason 10")));
        }
    }

    [Test]
    public void Render_Counts_ListsTotalsReasonsAndRejections()
    {
        var summary = new ImportSummary();
        for (var i = 0; i < 1_500; i++)
        {
            summary.AddLineRead();
        }

        summary.AddStored(accepted: 1_200, duplicates: 3);
        summary.AddSkipped("method POST");
        for (var i = 0; i < 284; i++)
        {
            summary.AddSkipped("status 404");
        }

        for (var line = 1; line <= 12; line++)
        {
            summary.AddRejected(line * 100, "bytes: missing");
        }

        var text = summary.Render();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(text, Does.Contain("Lines read:            1,500"));
            Assert.That(text, Does.Contain("Events accepted:       1,200"));
            Assert.That(text, Does.Contain("Duplicates:                3"));
            Assert.That(text, Does.Contain("Skipped:                 285"));
            Assert.That(text, Does.Contain("Rejected:                 12"));
            Assert.That(text, Does.Contain("  line 100: bytes: missing"));
            Assert.That(text, Does.Contain("... 2 more not listed"));
            Assert.That(text, Does.Not.Contain("line 1100:"));
            Assert.That(text, Does.Not.Contain("Unconfirmed"));
            Assert.That(text.IndexOf("status 404", StringComparison.Ordinal), Is.LessThan(text.IndexOf("method POST", StringComparison.Ordinal)));
        }
    }

    [Test]
    public void Render_StoppedImport_ShowsUnconfirmed()
    {
        var summary = new ImportSummary();
        summary.AddLineRead();
        summary.AddUnconfirmed(1);

        Assert.That(summary.Render(), Does.Contain("Unconfirmed:               1"));
    }
}
