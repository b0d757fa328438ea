using System.CommandLine;
using System.Text.Json;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Web.Cli;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace LambdaStats.Tests.Import;

public sealed class ImportCommandTests
{
    private string folder = string.Empty;
    private StringWriter output = null!;
    private StringWriter error = null!;
    private HttpClient client = null!;

    [SetUp]
    public void SetUp()
    {
        folder = Path.Combine(Path.GetTempPath(), "lambdastats-command-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        output = new StringWriter();
        error = new StringWriter();
        client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
    }

    [TearDown]
    public void TearDown()
    {
        client.Dispose();
        output.Dispose();
        error.Dispose();
        Directory.Delete(folder, recursive: true);
    }

    [TestCase]
    [TestCase("--urls", "http://127.0.0.1:5000")]
    [TestCase("serve")]
    [TestCase("Import")]
    public async Task RunAsync_NoSubcommand_ReturnsNull(params string[] args)
    {
        var exitCode = await RunAsync(args);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(exitCode, Is.Null);
            Assert.That(CliEntryPoint.IsCommandLineRun(args), Is.False);
        }
    }

    [TestCase("--help")]
    [TestCase("-h")]
    [TestCase("-?")]
    public async Task Help_ListsImportAndExits(string option)
    {
        var exitCode = await RunAsync(option);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(exitCode, Is.Zero);
            Assert.That(CliEntryPoint.IsCommandLineRun([option]), Is.True);
            Assert.That(output.ToString(), Does.Contain("import"));
            Assert.That(output.ToString(), Does.Contain("runs the web service"));
        }
    }

    [Test]
    public async Task Import_Help_ReturnsZero()
    {
        var exitCode = await RunAsync("import", "--help");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(exitCode, Is.Zero);
            Assert.That(output.ToString(), Does.Contain("--replay-speed"));
            Assert.That(output.ToString(), Does.Contain("--batch-size"));
        }
    }

    [TestCase("--replay-speed", "10")]
    [TestCase("--replay-speed", "10", "--format", "clf")]
    public async Task Import_ReplayWithoutUrl_ReturnsUsageError(params string[] options)
    {
        var exitCode = await RunAsync(["import", WriteFile("a.log", ""), .. options]);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(exitCode, Is.EqualTo(2));
            Assert.That(error.ToString(), Does.Contain("--replay-speed requires --url"));
        }
    }

    [TestCase("--format", "csv", "csv")]
    [TestCase("--replay-speed", "0", "--replay-speed must be a number greater than 0")]
    [TestCase("--replay-speed", "-2", "--replay-speed must be a number greater than 0")]
    [TestCase("--replay-speed", "fast", "--replay-speed must be a number greater than 0, got 'fast'")]
    [TestCase("--replay-speed", "NaN", "--replay-speed must be a number greater than 0, got 'NaN'")]
    [TestCase("--batch-size", "0", "--batch-size must be a whole number from 1 to 10000, the maximum number of events per request, got '0'")]
    [TestCase("--batch-size", "many", "--batch-size must be a whole number from 1 to 10000, the maximum number of events per request, got 'many'")]
    [TestCase("--batch-size", "10001", "--batch-size must be a whole number from 1 to 10000, the maximum number of events per request, got '10001'")]
    [TestCase("--url", "ftp://127.0.0.1/", "--url must be an absolute http or https URL")]
    [TestCase("--url", "127.0.0.1:5000", "--url must be an absolute http or https URL")]
    public async Task Import_InvalidOption_ReturnsUsageError(string option, string value, string expectedError)
    {
        string[] url = option == "--url" ? [] : ["--url", "http://127.0.0.1:9"];

        var exitCode = await RunAsync(["import", WriteFile("a.log", ""), .. url, option, value]);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(exitCode, Is.EqualTo(2));
            Assert.That(error.ToString(), Does.Contain(expectedError));
        }
    }

    [Test]
    public async Task Import_MissingFileArgument_ReturnsUsageError()
    {
        var exitCode = await RunAsync("import");

        Assert.That(exitCode, Is.EqualTo(2));
    }

    [Test]
    public async Task Import_MissingFile_ReturnsOneWithPath()
    {
        var path = Path.Combine(folder, "missing.log");

        var exitCode = await RunAsync("import", path, "--url", "http://127.0.0.1:9");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(exitCode, Is.EqualTo(1));
            Assert.That(error.ToString(), Does.Contain($"file not found: {path}"));
            Assert.That(error.ToString(), Does.Contain("Check the path"));
        }
    }

    [Test]
    public async Task Import_CorruptGzip_ReturnsOne()
    {
        var path = WriteFile("access.log.gz", "not gzip at all\n");

        var exitCode = await RunAsync("import", path, "--url", "http://127.0.0.1:9");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(exitCode, Is.EqualTo(1));
            Assert.That(error.ToString(), Does.Contain($"reading {path} failed after line 0"));
        }
    }

    [Test]
    public async Task Import_NoUrlWithoutLocalStore_ReturnsUsageError()
    {
        var exitCode = await RunAsync(CreateServices(localTarget: null), "import", WriteFile("a.log", ""));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(exitCode, Is.EqualTo(2));
            Assert.That(error.ToString(), Does.Contain("Pass --url"));
        }
    }

    [Test]
    public async Task Import_AccessLogOverHttp_SendsEventsAndPrintsSummary()
    {
        await using var server = await EventsTestServer.StartAsync();
        var path = WriteFile(
            "access.log",
            "a.example.com - - [01/Aug/1995:02:00:00 -0400] \"GET /shuttle/countdown/ HTTP/1.0\" 200 3985\n"
            + "a.example.com - - [01/Aug/1995:02:00:01 -0400] \"GET /images/logo.gif HTTP/1.0\" 200 1713\n"
            + "b.example.com - - [01/Aug/1995:02:00:02 -0400] \"GET /missing.html HTTP/1.0\" 404 -\n"
            + "broken line\n");

        var exitCode = await RunAsync("import", path, "--url", server.BaseUrl.ToString(), "--batch-size", "1");

        var text = output.ToString();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(exitCode, Is.Zero, error.ToString());
            Assert.That(server.Requests, Has.Count.EqualTo(2));
            Assert.That(text, Does.Contain("(clf) into " + server.BaseUrl));
            Assert.That(text, Does.Contain("Lines read:                4"));
            Assert.That(text, Does.Contain("Events accepted:           2"));
            Assert.That(text, Does.Contain("1  status 404"));
            Assert.That(text, Does.Contain("line 4: authuser: missing"));
            Assert.That(error.ToString(), Is.Empty);
        }
    }

    [Test]
    public async Task Import_ServiceRejectsBatch_ReturnsOne()
    {
        await using var server = await EventsTestServer.StartAsync((_, _) => (400, """{"error":"invalid body"}"""));
        var path = WriteFile("access.log", "a - - [01/Aug/1995:02:00:00 -0400] \"GET / HTTP/1.0\" 200 1\n");

        var exitCode = await RunAsync("import", path, "--url", server.BaseUrl.ToString());

        using (Assert.EnterMultipleScope())
        {
            Assert.That(exitCode, Is.EqualTo(1));
            Assert.That(error.ToString(), Does.Contain("Import stopped after reading line 1"));
            Assert.That(error.ToString(), Does.Contain("returned 400"));
            Assert.That(output.ToString(), Does.Contain("Unconfirmed:               1"));
        }
    }

    [Test]
    public async Task Import_JsonLinesLocally_MapsRejectionsToLineNumbers()
    {
        var ingestor = new FakeIngestor();
        var path = WriteFile(
            "events.jsonl",
            """{"id":"e1","type":"HubVisited","occurredAt":"2026-01-10T09:30:00Z","hubId":"h"}""" + "\n"
            + "\n"
            + """{"id":"e2","type":"Unknown"}""" + "\n"
            + "{not json\n");

        var exitCode = await RunAsync(CreateServices(new LocalImportTarget(ingestor)), "import", path);

        var text = output.ToString();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(exitCode, Is.Zero, error.ToString());
            Assert.That(ingestor.Received, Has.Count.EqualTo(2));
            Assert.That(text, Does.Contain("(jsonl) into the local event store"));
            Assert.That(text, Does.Contain("Events accepted:           1"));
            Assert.That(text, Does.Contain("1  blank line"));
            Assert.That(text, Does.Contain("line 3: type: unknown"));
            Assert.That(text, Does.Contain("line 4: invalid JSON at line 4"));
        }
    }

    [Test]
    public void AnsiConsoleLogger_Warning_WritesLabelledLine()
    {
        using var provider = new AnsiConsoleLoggerProvider(ConsoleFactory.Create(output), LogLevel.Information);
        var logger = provider.CreateLogger("test");

        logger.LogWarning("Retrying lines {FirstLine} to {LastLine}", 5, 6);
        logger.LogDebug("not shown");

        Assert.That(output.ToString().TrimEnd(), Is.EqualTo("warn: Retrying lines 5 to 6"));
    }

    [TestCase("events.jsonl", "Jsonl")]
    [TestCase("events.JSONL.gz", "Jsonl")]
    [TestCase("/data/events.ndjson", "Jsonl")]
    [TestCase("access.log.gz", "Clf")]
    [TestCase("access.log", "Clf")]
    [TestCase("jsonl/access", "Clf")]
    public void InferFormat_FileName_ReturnsFormat(string path, string expected)
    {
        Assert.That(ImportCommand.InferFormat(path).ToString(), Is.EqualTo(expected));
    }

    private string WriteFile(string name, string text)
    {
        var path = Path.Combine(folder, name);
        File.WriteAllText(path, text);
        return path;
    }

    private Task<int?> RunAsync(params string[] args) => RunAsync(CreateServices(new LocalImportTarget(new FakeIngestor())), args);

    private Task<int?> RunAsync(ImportCommandServices services, params string[] args)
    {
        var configuration = new InvocationConfiguration { Output = output, Error = error, ProcessTerminationTimeout = null };
        return CliEntryPoint.RunAsync(args, services, configuration, CancellationToken.None);
    }

    private ImportCommandServices CreateServices(IImportTarget? localTarget) => new()
    {
        Time = TimeProvider.System,
        Output = output,
        Console = ConsoleFactory.Create(output),
        Error = error,
        ShowProgressBar = false,
        LoggerFactory = NullLoggerFactory.Instance,
        CreateHttpTarget = url => new HttpImportTarget(client, url, TimeProvider.System, NullLogger<HttpImportTarget>.Instance, new HttpImportRetryOptions { MaxAttempts = 1 }),
        CreateLocalTarget = localTarget is null ? null : () => localTarget,
    };

    /// <summary>Accepts JSON events that have a known type and rejects the others, as the pipeline would.</summary>
    private sealed class FakeIngestor : IEventIngestor
    {
        public List<JsonElement> Received { get; } = [];

        public Task<IngestionResult> IngestAsync(IReadOnlyList<JsonElement> events, CancellationToken cancellationToken)
        {
            Received.AddRange(events);
            var rejected = new List<RejectedEvent>();
            for (var index = 0; index < events.Count; index++)
            {
                var type = events[index].GetProperty("type").GetString();
                if (!Enum.TryParse<EventType>(type, out _))
                {
                    rejected.Add(new RejectedEvent(index, events[index].GetProperty("id").GetString(), $"type: unknown event type '{type}'"));
                }
            }

            return Task.FromResult(new IngestionResult(events.Count - rejected.Count, 0, rejected));
        }

        public Task<IngestionResult> IngestValidatedAsync(IReadOnlyList<LambdaEvent> events, CancellationToken cancellationToken) =>
            Task.FromResult(new IngestionResult(events.Count, 0, []));
    }
}
