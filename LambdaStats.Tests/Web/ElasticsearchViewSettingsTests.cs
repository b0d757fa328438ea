using LambdaStats.Modules.Storage.Elasticsearch;
using LambdaStats.Modules.View;
using LambdaStats.Modules.View.Contracts;
using LambdaStats.Web.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace LambdaStats.Tests.Web;

/// <summary>The settings that choose and configure the view store, and how a wrong one stops the start.</summary>
[TestFixture]
public sealed class ElasticsearchViewSettingsTests
{
    private string dataDirectory = null!;

    [SetUp]
    public void CreateDirectory()
    {
        dataDirectory = Path.Combine(Path.GetTempPath(), "lambdastats-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataDirectory);
    }

    [TearDown]
    public void DeleteDirectory()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(dataDirectory, recursive: true);
    }

    [TestCase("Storage:Views", "Mongo", "Failed to convert configuration value 'Mongo' at 'Storage:Views'")]
    [TestCase("Storage:Views", "7", "Storage:Views must be Sqlite or Elasticsearch, not '7'.")]
    [TestCase("Storage:Elasticsearch:Url", " ", "Storage:Elasticsearch:Url is empty")]
    [TestCase("Storage:Elasticsearch:Url", "ftp://127.0.0.1", "Storage:Elasticsearch:Url must be an absolute http or https address")]
    [TestCase("Storage:Elasticsearch:Url", "http://elastic:secret@127.0.0.1:9200", "Storage:Elasticsearch:Url contains credentials")]
    [TestCase("Storage:Elasticsearch:Username", "elastic", "Storage:Elasticsearch:Username and Storage:Elasticsearch:Password must be set together.")]
    [TestCase("Storage:Elasticsearch:IndexPrefix", "LambdaStats-", "Storage:Elasticsearch:IndexPrefix 'LambdaStats-' is not valid in an index name")]
    [TestCase("Storage:Elasticsearch:IndexPrefix", "_views-", "Storage:Elasticsearch:IndexPrefix '_views-' starts with '_'")]
    public void TryBuild_InvalidViewSetting_NamesSetting(string key, string value, string expected)
    {
        using var error = new StringWriter();
        string[] elasticsearch = key == "Storage:Views" ? [] : ["--Storage:Views=Elasticsearch", "--Storage:Elasticsearch:Url=http://127.0.0.1:9200"];

        var app = ServiceRunner.TryBuild([.. elasticsearch, $"--{key}={value}", $"--Storage:DataDirectory={dataDirectory}"], error);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(app, Is.Null);
            Assert.That(error.ToString(), Does.StartWith($"LambdaStats could not start: {expected}"));
        }
    }

    [Test]
    public void TryBuild_ApiKeyAndUser_NamesBoth()
    {
        using var error = new StringWriter();

        var app = ServiceRunner.TryBuild(
            ["--Storage:Views=Elasticsearch", "--Storage:Elasticsearch:Url=http://127.0.0.1:9200", "--Storage:Elasticsearch:ApiKey=key", "--Storage:Elasticsearch:Username=elastic", "--Storage:Elasticsearch:Password=secret", $"--Storage:DataDirectory={dataDirectory}"],
            error);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(app, Is.Null);
            Assert.That(error.ToString(), Does.StartWith("LambdaStats could not start: Storage:Elasticsearch:ApiKey and Storage:Elasticsearch:Username or Password are both set"));
            Assert.That(error.ToString(), Does.Not.Contain("secret"));
        }
    }

    [Test]
    public async Task Build_ElasticsearchViews_ReplacesSqliteStore()
    {
        var app = CreateBuilder(("Storage:Views", "Elasticsearch"), ("Storage:Elasticsearch:Url", "http://127.0.0.1:9200")).Build();

        var store = app.Services.GetRequiredKeyedService<IViewStore>(ViewModule.StoreKey);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(store, Is.InstanceOf<ElasticsearchViewStore>());
            Assert.That(app.Services.GetServices<IViewStore>().Count(), Is.EqualTo(1));
            Assert.That(File.Exists(Path.Combine(dataDirectory, "views.db")), Is.False);
        }

        await app.DisposeAsync();
    }

    [Test]
    public async Task Build_NoViewsSetting_KeepsSqliteStore()
    {
        var app = CreateBuilder().Build();

        var store = app.Services.GetRequiredKeyedService<IViewStore>(ViewModule.StoreKey);

        Assert.That(store, Is.InstanceOf<Modules.Storage.Sqlite.SqliteViewStore>());
        await app.DisposeAsync();
    }

    [Test]
    public async Task Run_ElasticsearchUnreachable_StopsAtStart()
    {
        // Port 9 (discard) has no Elasticsearch server on a test machine, so the connection is refused.
        var app = CreateBuilder(("Storage:Views", "Elasticsearch"), ("Storage:Elasticsearch:Url", "http://127.0.0.1:9")).Build();
        app.MapLambdaStats();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var error = new StringWriter();

        var exitCode = await ServiceRunner.RunAsync(app, error, timeout.Token);
        await app.DisposeAsync();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(exitCode, Is.EqualTo(ServiceRunner.FailureExitCode));
            Assert.That(error.ToString(), Does.StartWith("LambdaStats could not start: Storage:Views is Elasticsearch, but the view indices could not be checked or created at Storage:Elasticsearch:Url (http://127.0.0.1:9/)"));
            Assert.That(error.ToString(), Does.Contain("Connection refused"));
        }
    }

    /// <summary>Returns a builder of the service on a free loopback port, over this test's data directory, without the job server or logs.</summary>
    private WebApplicationBuilder CreateBuilder(params (string Key, string Value)[] settings)
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Storage:DataDirectory"] = dataDirectory,
            ["Hosting:RunJobServer"] = "false",
            ["Logging:LogLevel:Default"] = "None",
        });
        builder.Configuration.AddInMemoryCollection(settings.Select(setting => KeyValuePair.Create(setting.Key, (string?)setting.Value)));
        builder.AddLambdaStats();
        return builder;
    }
}
