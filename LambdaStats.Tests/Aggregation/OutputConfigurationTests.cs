using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Events.Contracts;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace LambdaStats.Tests.Aggregation;

/// <summary>The min, max and distinctCount settings, read from configuration through <see cref="AggregationCatalog.FromOptions"/>.</summary>
[TestFixture]
public sealed class OutputConfigurationTests
{
    [Test]
    public void FromOptions_DistinctCountWithoutMode_IsExact()
    {
        var output = ParseOutput(new OutputOptions { Name = "visitors", Aggregator = "distinctCount", Field = "visitorId" });

        using (Assert.EnterMultipleScope())
        {
            Assert.That(output.Aggregator, Is.EqualTo(AggregatorKind.DistinctCount));
            Assert.That(output.Field, Is.EqualTo(EventField.VisitorId));
            Assert.That(output.Mode, Is.EqualTo(DistinctCountMode.Exact));
            Assert.That(output.Precision, Is.Null);
            Assert.That(output.CreateAccumulator(), Is.TypeOf<ExactDistinctCountAccumulator>());
        }
    }

    [Test]
    public void FromOptions_HllWithoutPrecision_UsesPrecision14()
    {
        var output = ParseOutput(new OutputOptions { Name = "visitors", Aggregator = "distinctCount", Field = "visitorId", Mode = "HLL" });

        using (Assert.EnterMultipleScope())
        {
            Assert.That(output.Mode, Is.EqualTo(DistinctCountMode.HyperLogLog), "mode names ignore case");
            Assert.That(output.Precision, Is.EqualTo(14));
            Assert.That(((HyperLogLogDistinctCountAccumulator)output.CreateAccumulator()).Sketch.Precision, Is.EqualTo(14));
        }
    }

    [TestCase(4)]
    [TestCase(18)]
    public void FromOptions_HllPrecisionAtBound_IsAccepted(int precision)
    {
        var output = ParseOutput(new OutputOptions { Name = "visitors", Aggregator = "distinctCount", Field = "visitorId", Mode = "hll", Precision = precision });

        Assert.That(((HyperLogLogDistinctCountAccumulator)output.CreateAccumulator()).Sketch.Precision, Is.EqualTo(precision));
    }

    [Test]
    public void FromOptions_DistinctNumericField_IsAccepted()
    {
        var output = ParseOutput(new OutputOptions { Name = "pages", Aggregator = "distinctCount", Field = "page" });

        Assert.That(output.Field, Is.EqualTo(EventField.Page));
    }

    [Test]
    public void FromOptions_MinAndMax_ReadNumericField()
    {
        var min = ParseOutput(new OutputOptions { Name = "shortest", Aggregator = "min", Field = "durationSeconds" });
        var max = ParseOutput(new OutputOptions { Name = "lastPage", Aggregator = "max", Field = "page" });

        using (Assert.EnterMultipleScope())
        {
            Assert.That(min.CreateAccumulator(), Is.TypeOf<MinAccumulator>());
            Assert.That(max.CreateAccumulator(), Is.TypeOf<MaxAccumulator>());
            Assert.That(max.Field, Is.EqualTo(EventField.Page));
        }
    }

    [TestCase("distinctCount", null, null, null, "field of aggregation 'a' is missing; the distinctCount aggregator counts the distinct values of an event field")]
    [TestCase("distinctCount", "visitor", null, null, "field 'visitor' of aggregation 'a' is not an event field; use one of id, hubId, mediaId, visitorId")]
    [TestCase("distinctCount", "visitorId", "approximate", null, "mode 'approximate' of aggregation 'a' is unknown; use exact (the default) or hll")]
    [TestCase("distinctCount", "visitorId", "hll", 3, "precision 3 of aggregation 'a' is out of range; use 4 to 18 (default 14)")]
    [TestCase("distinctCount", "visitorId", "hll", 19, "precision 19 of aggregation 'a' is out of range; use 4 to 18 (default 14)")]
    [TestCase("distinctCount", "visitorId", "exact", 12, "precision of aggregation 'a' applies only to mode hll, but the mode is 'exact'; set mode to hll or remove precision")]
    [TestCase("distinctCount", "visitorId", null, 12, "precision of aggregation 'a' applies only to mode hll, but the mode is exact, the default; set mode to hll or remove precision")]
    [TestCase("count", null, "exact", null, "mode 'exact' of aggregation 'a' applies only to the distinctCount aggregator; remove it")]
    [TestCase("count", null, null, 14, "precision of aggregation 'a' applies only to the distinctCount aggregator in hll mode; remove it")]
    [TestCase("min", null, null, null, "field of aggregation 'a' is missing; the min aggregator reads a numeric field (page, durationSeconds)")]
    [TestCase("max", null, null, null, "field of aggregation 'a' is missing; the max aggregator reads a numeric field (page, durationSeconds)")]
    [TestCase("max", "visitorId", null, null, "field 'visitorId' of aggregation 'a' is not a numeric event field (page, durationSeconds)")]
    public void FromOptions_InvalidOutput_NamesProblemAndPath(string aggregator, string? field, string? mode, int? precision, string expected)
    {
        var options = Options(new OutputOptions { Name = "out", Aggregator = aggregator, Field = field, Mode = mode, Precision = precision });

        Assert.That(
            () => AggregationCatalog.FromOptions(options),
            Throws.InvalidOperationException.With.Message.Contains("Aggregations:0:outputs:0:" + expected));
    }

    [Test]
    public void FromOptions_InvalidModeAndPrecision_ListsBothErrors()
    {
        var options = Options(new OutputOptions { Name = "out", Aggregator = "distinctCount", Field = "visitorId", Mode = "fuzzy", Precision = 30 });

        Assert.That(
            () => AggregationCatalog.FromOptions(options),
            Throws.InvalidOperationException.With.Message.Contains("mode 'fuzzy'").And.Message.Contains("precision 30"));
    }

    [Test]
    public void Constructor_PrecisionWithExactMode_ThrowsArgumentException()
    {
        Assert.That(
            () => new OutputDefinition("visitors", AggregatorKind.DistinctCount, EventField.VisitorId, mode: DistinctCountMode.Exact, precision: 12),
            Throws.ArgumentException.With.Message.Contains("hll mode"));
    }

    [Test]
    public void Constructor_MinOfStringField_ThrowsArgumentException()
    {
        Assert.That(
            () => new OutputDefinition("first", AggregatorKind.Min, EventField.VisitorId),
            Throws.ArgumentException.With.Message.Contains("min aggregator needs a numeric field"));
    }

    /// <summary>The catalogue the service ships: the unique visitor outputs come after the outputs that order groups.</summary>
    [Test]
    public void Catalogue_Appsettings_CountsUniqueVisitorsExactly()
    {
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: false)
            .Build();
        using var services = new ServiceCollection().AddAggregationModule(configuration).BuildServiceProvider();
        var catalog = services.GetRequiredService<AggregationCatalog>();

        var hubVisits = catalog.Get("hubVisits").Outputs;
        var consultations = catalog.Get("mediaConsultations").Outputs;

        using (Assert.EnterMultipleScope())
        {
            Assert.That(hubVisits.Select(o => o.Name), Is.EqualTo(new[] { "visits", "uniqueVisitors" }));
            Assert.That(hubVisits[1].Field, Is.EqualTo(EventField.VisitorId));
            Assert.That(hubVisits[1].Mode, Is.EqualTo(DistinctCountMode.Exact));
            Assert.That(consultations.Select(o => o.Name), Is.EqualTo(new[] { "consultations", "consulted", "uniqueReaders" }));
            Assert.That(consultations[2].Field, Is.EqualTo(EventField.VisitorId));
            Assert.That(consultations[2].Mode, Is.EqualTo(DistinctCountMode.Exact));
        }
    }

    private static OutputDefinition ParseOutput(OutputOptions output) =>
        AggregationCatalog.FromOptions(Options(output)).Get("a").Outputs[0];

    private static AggregationOptions Options(OutputOptions output) => new()
    {
        Items =
        [
            new AggregationDefinitionOptions { Name = "a", EventType = "PageViewed", Key = ["hubId", "mediaId"], Outputs = [output] },
        ],
    };
}
