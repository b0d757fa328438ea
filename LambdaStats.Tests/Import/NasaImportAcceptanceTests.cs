using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Tests.Support;
using LambdaStats.Web.Cli;
using LambdaStats.Web.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Spectre.Console;

namespace LambdaStats.Tests.Import;

/// <summary>
/// The main job on real input: the NASA KSC log of 1 August 1995 imported through the service's
/// own command, locally and over HTTP, then read back through the query API.
/// </summary>
[TestFixture]
public sealed class NasaImportAcceptanceTests
{
    private const int LineCount = 30_969;
    private const string ShuttleDay = "from=1995-08-01T00:00:00Z&to=1995-08-02T00:00:00Z";

    private string SamplePath => Path.Combine(NasaSampleTests.FindSampleFolder(), "access.log.gz");

    [Test]
    public async Task ImportLocal_NasaSample_AnswersIndependentCountBeforeAndAfterBatch()
    {
        var expected = await NasaSampleTests.CountShuttleOpenedBySplittingAsync();
        var dataDirectory = Path.Combine(Path.GetTempPath(), "lambdastats-import-" + Guid.NewGuid().ToString("N"));
        try
        {
            var local = LocalImportServices.Create(new Dictionary<string, string?> { ["Storage:DataDirectory"] = dataDirectory });
            var (firstExit, first) = await RunImportAsync(["import", SamplePath], () => new LocalImportTarget(local.GetRequiredService<IEventIngestor>()));
            var (secondExit, second) = await RunImportAsync(["import", SamplePath], () => new LocalImportTarget(local.GetRequiredService<IEventIngestor>()));
            await ((IAsyncDisposable)local).DisposeAsync();

            // A service started on the same directory rebuilds its speed layer from the store.
            using var factory = new LambdaStatsFactory(dataDirectory);
            using var client = factory.CreateClient();
            var before = await client.GetFromJsonAsync<JsonObject>($"/api/hubs/shuttle/aggregations/mediaConsultations?{ShuttleDay}");
            var run = await client.PostAsync("/api/admin/batch/run", null);
            var after = await client.GetFromJsonAsync<JsonObject>($"/api/hubs/shuttle/aggregations/mediaConsultations?{ShuttleDay}");

            using (Assert.EnterMultipleScope())
            {
                Assert.That(firstExit, Is.Zero, first);
                Assert.That(Count(first, "Lines read"), Is.EqualTo(LineCount), first);
                Assert.That(Count(first, "Events accepted") + Count(first, "Duplicates") + Count(first, "Skipped") + Count(first, "Rejected"), Is.EqualTo(LineCount), first);
                Assert.That(secondExit, Is.Zero, second);
                Assert.That(Count(second, "Events accepted"), Is.Zero, "a second import adds nothing");
                Assert.That(Count(second, "Duplicates"), Is.EqualTo(Count(first, "Events accepted")), second);
                Assert.That((long?)before!["totals"]!["consultations"], Is.EqualTo(expected), "from the speed layer");
                Assert.That(run.StatusCode, Is.EqualTo(HttpStatusCode.OK));
                Assert.That((string?)after!["watermark"], Is.Not.Null);
                Assert.That((long?)after["totals"]!["consultations"], Is.EqualTo(expected), "from the batch views");
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            if (Directory.Exists(dataDirectory))
            {
                Directory.Delete(dataDirectory, recursive: true);
            }
        }
    }

    [Test]
    public async Task ImportOverHttp_NasaSample_AnswersIndependentCount()
    {
        var expected = await NasaSampleTests.CountShuttleOpenedBySplittingAsync();
        using var factory = new KestrelFactory();
        var url = factory.Start();

        var exitCode = await CliEntryPoint.TryRunAsync(["import", SamplePath, "--url", url], localServices: null);
        using var client = new HttpClient { BaseAddress = new Uri(url) };
        var answer = await client.GetFromJsonAsync<JsonObject>($"/api/hubs/shuttle/aggregations/mediaConsultations?{ShuttleDay}");
        await client.PostAsync("/api/admin/batch/run", null);
        var afterBatch = await client.GetFromJsonAsync<JsonObject>($"/api/hubs/shuttle/aggregations/mediaConsultations?{ShuttleDay}");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(exitCode, Is.Zero);
            Assert.That((long?)answer!["totals"]!["consultations"], Is.EqualTo(expected));
            Assert.That((long?)afterBatch!["totals"]!["consultations"], Is.EqualTo(expected));
        }
    }

    [Test]
    public async Task ReplayOverHttp_SpeedTen_EventsArriveInTimeOrder()
    {
        using var factory = new KestrelFactory();
        var url = factory.Start();
        var start = DateTimeOffset.UtcNow.AddHours(-1);
        var lines = Enumerable.Range(0, 6)
            .Select(i => (Id: $"replay-{i}", At: start.AddSeconds(2 * i)))
            .OrderByDescending(e => e.Id, StringComparer.Ordinal)
            .Select(e => $$"""{"id":"{{e.Id}}","type":"HubVisited","occurredAt":"{{e.At:O}}","hubId":"replay"}""");
        var file = Path.Combine(Path.GetTempPath(), $"lambdastats-replay-{Guid.NewGuid():N}.jsonl");
        await File.WriteAllLinesAsync(file, lines);
        try
        {
            var watch = Stopwatch.StartNew();
            var exitCode = await CliEntryPoint.TryRunAsync(["import", file, "--format", "jsonl", "--url", url, "--replay-speed", "10"], localServices: null);
            var elapsed = watch.Elapsed;

            using (Assert.EnterMultipleScope())
            {
                Assert.That(exitCode, Is.Zero);
                Assert.That(factory.Arrivals, Is.EqualTo(new[] { "replay-0", "replay-1", "replay-2", "replay-3", "replay-4", "replay-5" }), "arrival order");

                // 10 s of event time at 10x cannot take less than 1 s; only this lower bound is checked.
                Assert.That(elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(0.9)));
            }
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Test]
    public async Task ImportLocal_InvalidSetting_StoresNothing()
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "lambdastats-import-" + Guid.NewGuid().ToString("N"));
        try
        {
            var (exitCode, output) = await RunImportAsync(
                ["import", SamplePath],
                () => new LocalImportTarget(LocalImportServices.Create(new Dictionary<string, string?>
                {
                    ["Storage:DataDirectory"] = dataDirectory,
                    ["Speed:PairsInMemory"] = "0",
                }).GetRequiredService<IEventIngestor>()));

            using (Assert.EnterMultipleScope())
            {
                Assert.That(exitCode, Is.EqualTo(1), output);
                Assert.That(output, Does.Contain("Import failed: Speed:PairsInMemory must be 1 or more"));
                Assert.That(output, Does.Not.Contain("Lines read"), "no line is read");
                Assert.That(File.Exists(Path.Combine(dataDirectory, "events.db")), Is.False, "no database is opened");
            }
        }
        finally
        {
            if (Directory.Exists(dataDirectory))
            {
                Directory.Delete(dataDirectory, recursive: true);
            }
        }
    }

    private static async Task<(int? ExitCode, string Output)> RunImportAsync(string[] args, Func<IImportTarget> localTarget)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var services = new ImportCommandServices
        {
            Time = TimeProvider.System,
            Output = output,
            Error = error,
            Console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) }),
            ShowProgressBar = false,
            LoggerFactory = NullLoggerFactory.Instance,
            CreateHttpTarget = _ => throw new InvalidOperationException("This test imports locally."),
            CreateLocalTarget = localTarget,
        };
        var exitCode = await CliEntryPoint.RunAsync(args, services, new System.CommandLine.InvocationConfiguration { Output = output, Error = error }, CancellationToken.None);
        return (exitCode, output + error.ToString());
    }

    /// <summary>Reads a count from the summary, for example "Lines read:  30,969".</summary>
    private static long Count(string summary, string label)
    {
        var line = summary.Split('\n').Single(l => l.StartsWith(label + ":", StringComparison.Ordinal));
        return long.Parse(line[(label.Length + 1)..].Trim(), System.Globalization.NumberStyles.AllowThousands, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The real host on a Kestrel socket at 127.0.0.1, recording the ids of posted events in arrival order.</summary>
    private sealed class KestrelFactory : LambdaStatsFactory
    {
        private readonly List<string> arrivals = [];

        public IReadOnlyList<string> Arrivals
        {
            get
            {
                lock (arrivals)
                {
                    return arrivals.ToList();
                }
            }
        }

        public string Start()
        {
            UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
            StartServer();
            return Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        }

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureServices(services => services.AddSingleton<IStartupFilter>(new ArrivalRecorder(arrivals)));
        }
    }

    private sealed class ArrivalRecorder(List<string> arrivals) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (context, proceed) =>
            {
                if (HttpMethods.IsPost(context.Request.Method) && context.Request.Path == "/api/events")
                {
                    context.Request.EnableBuffering();
                    var node = await System.Text.Json.Nodes.JsonNode.ParseAsync(context.Request.Body);
                    context.Request.Body.Position = 0;
                    var ids = node is JsonArray array ? array.Select(e => (string?)e!["id"]) : [(string?)node!["id"]];
                    lock (arrivals)
                    {
                        arrivals.AddRange(ids.Select(id => id ?? string.Empty));
                    }
                }

                await proceed();
            });
            next(app);
        };
    }
}
