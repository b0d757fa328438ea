using System.Globalization;
using LambdaStats.Modules.Batch;

namespace LambdaStats.Tests.Lambda;

[TestFixture]
public sealed class BatchJobNameTests
{
    private static readonly BatchJobNameAttribute Name = new("Backfill {0} up to {1} (step {2} of {3})", "Rattrapage de {0} jusqu'à {1} (étape {2} sur {3})");

    [Test]
    public void Format_French_UsesUtcInstants()
    {
        var cap = new DateTimeOffset(2026, 12, 5, 6, 0, 0, TimeSpan.FromHours(1));

        var name = Name.Format(["pageViews", cap, 2, 10], CultureInfo.GetCultureInfo("fr-FR"));

        Assert.That(name, Is.EqualTo("Rattrapage de pageViews jusqu'à 2026-12-05 05:00Z (étape 2 sur 10)"));
    }

    [Test]
    public void Format_EnglishNullAggregation_NamesEveryAggregation()
    {
        var name = Name.Format([null, new DateTimeOffset(2026, 1, 2, 3, 0, 0, TimeSpan.Zero), 1, 1], CultureInfo.GetCultureInfo("en-US"));

        Assert.That(name, Is.EqualTo("Backfill every aggregation up to 2026-01-02 03:00Z (step 1 of 1)"));
    }
}
