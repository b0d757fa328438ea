using LambdaStats.Tests.Storage;
using LambdaStats.Web.Hosting;
using Microsoft.Extensions.Configuration;

namespace LambdaStats.Tests.Web;

/// <summary>
/// The service reads the appsettings.json of its content root, or else the copy shipped beside
/// the executable, and never both: arrays would merge entry by entry.
/// </summary>
[TestFixture]
public sealed class ShippedSettingsTests
{
    private const string Shipped = """
        {
          "Aggregations": [
            { "name": "a", "outputs": [ { "name": "readers", "aggregator": "distinctCount", "field": "visitorId", "mode": "exact" } ] },
            { "name": "b" }
          ],
          "Storage": { "DataDirectory": "shipped-data" }
        }
        """;

    private TemporaryDirectory contentRoot = null!;
    private TemporaryDirectory baseDirectory = null!;

    [SetUp]
    public void SetUp()
    {
        contentRoot = new TemporaryDirectory();
        baseDirectory = new TemporaryDirectory();
        File.WriteAllText(Path.Combine(baseDirectory.Path, "appsettings.json"), Shipped);
    }

    [TearDown]
    public void TearDown()
    {
        contentRoot.Dispose();
        baseDirectory.Dispose();
    }

    [Test]
    public void Add_ContentRootFile_ReadsOnlyIt()
    {
        File.WriteAllText(Path.Combine(contentRoot.Path, "appsettings.json"), """
            { "Aggregations": [ { "name": "k1", "outputs": [ { "name": "n", "aggregator": "count" } ] } ] }
            """);

        var configuration = Build();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(configuration.GetSection("Aggregations").GetChildren().Select(child => child["name"]), Is.EqualTo(new[] { "k1" }));
            Assert.That(configuration["Aggregations:0:outputs:0:field"], Is.Null);
            Assert.That(configuration["Aggregations:0:outputs:0:mode"], Is.Null);
            Assert.That(configuration["Storage:DataDirectory"], Is.Null);
        }
    }

    [Test]
    public void Add_NoContentRootFile_ReadsShippedFile()
    {
        var configuration = Build(("Storage:DataDirectory", "from-environment"));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(configuration.GetSection("Aggregations").GetChildren().Select(child => child["name"]), Is.EqualTo(new[] { "a", "b" }));
            Assert.That(configuration["Storage:DataDirectory"], Is.EqualTo("from-environment"), "later sources still override the shipped file");
        }
    }

    /// <summary>Builds the sources as the host does: the content root's file, then overrides, then the shipped file added first.</summary>
    private IConfigurationRoot Build(params (string Key, string Value)[] overrides)
    {
        var builder = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(contentRoot.Path, "appsettings.json"), optional: true)
            .AddInMemoryCollection(overrides.Select(pair => KeyValuePair.Create(pair.Key, (string?)pair.Value)));
        LambdaStatsHostExtensions.AddShippedSettings(builder, contentRoot.Path, baseDirectory.Path);
        return builder.Build();
    }
}
