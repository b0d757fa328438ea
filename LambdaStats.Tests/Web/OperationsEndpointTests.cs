using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Hangfire;
using LambdaStats.Modules.Common;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.Storage.Sqlite;
using LambdaStats.Tests.Support;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NSubstitute;

namespace LambdaStats.Tests.Web;

/// <summary>Readiness, recompute jobs, time zones over HTTP and the dashboard's languages.</summary>
[TestFixture]
public sealed class OperationsEndpointTests
{
    [Test]
    public async Task Health_DuringRebuild_LiveButNotReady()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var factory = new LambdaStatsFactory();
        using var slowStart = factory.WithWebHostBuilder(builder => builder.ConfigureTestServices(services =>
            services.AddSingleton<IEventStore>(provider => new SlowFirstReadStore(ActivatorUtilities.CreateInstance<SqliteEventStore>(provider), gate.Task))));
        using var client = slowStart.CreateClient();

        var live = await client.GetAsync("/health/live").WaitAsync(TimeSpan.FromSeconds(30));
        var notReady = await client.GetAsync("/health/ready");
        gate.SetResult();
        var ready = await WaitForStatusAsync(client, "/health/ready", HttpStatusCode.OK);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(live.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(notReady.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
            Assert.That(await notReady.Content.ReadAsStringAsync(), Is.EqualTo("Degraded"), "a rebuild is a phase of every start, not an error");
            Assert.That(ready, Is.EqualTo(HttpStatusCode.OK));
        }
    }

    [Test]
    public async Task Readiness_LongRebuild_LogsEachChangeOnce()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var serverLogger = LoggedLines.NewLogger();
        var serverLogs = Substitute.For<ILoggerProvider>();
        serverLogs.CreateLogger(Arg.Any<string>()).Returns(serverLogger);
        using var factory = new LambdaStatsFactory();
        using var slowStart = factory.WithWebHostBuilder(builder =>
        {
            builder.UseSetting("Logging:LogLevel:LambdaStats.Web.Hosting.SpeedLayerReadyCheck", "Information");
            builder.ConfigureTestServices(services =>
            {
                services.AddSingleton(serverLogs);
                services.AddSingleton<IEventStore>(provider => new SlowFirstReadStore(ActivatorUtilities.CreateInstance<SqliteEventStore>(provider), gate.Task));
            });
        });
        using var client = slowStart.CreateClient();

        var probes = new List<HttpStatusCode>();
        for (var probe = 0; probe < 3; probe++)
        {
            probes.Add((await client.GetAsync("/health/ready").WaitAsync(TimeSpan.FromSeconds(30))).StatusCode);
        }

        gate.SetResult();
        var ready = await WaitForStatusAsync(client, "/health/ready", HttpStatusCode.OK);
        var readyAgain = (await client.GetAsync("/health/ready")).StatusCode;
        var degradedWarnings = serverLogger.ReceivedCalls()
            .Where(call => call.GetMethodInfo().Name == nameof(ILogger.Log) && call.GetArguments()[0] is LogLevel.Warning)
            .Select(call => call.GetArguments()[2]?.ToString() ?? string.Empty)
            .Where(line => line.Contains("Degraded", StringComparison.Ordinal))
            .ToList();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(probes, Is.All.EqualTo(HttpStatusCode.ServiceUnavailable), "every probe during the rebuild");
            Assert.That(ready, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(readyAgain, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(degradedWarnings, Has.Count.EqualTo(1), () => string.Join(" | ", degradedWarnings));
            Assert.That(LoggedLines.WithEventId(serverLogger, 6001), Has.Count.EqualTo(1), "the change to Degraded");
            Assert.That(LoggedLines.WithEventId(serverLogger, 6002), Has.Count.EqualTo(1), "the change back to Healthy");
        }
    }

    [TestCase("/api/admin/batch/run")]
    [TestCase("/api/admin/batch/daily")]
    public async Task BatchRun_DuringRebuild_AsksToRetry(string path)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var factory = new LambdaStatsFactory();
        using var slowStart = factory.WithWebHostBuilder(builder => builder.ConfigureTestServices(services =>
            services.AddSingleton<IEventStore>(provider => new SlowFirstReadStore(ActivatorUtilities.CreateInstance<SqliteEventStore>(provider), gate.Task))));
        using var client = slowStart.CreateClient();

        var starting = await client.PostAsync(path, null).WaitAsync(TimeSpan.FromSeconds(30));
        var problem = await starting.Content.ReadAsStringAsync();
        gate.SetResult();
        await WaitForStatusAsync(client, "/health/ready", HttpStatusCode.OK);
        var ready = await client.PostAsync(path, null);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(starting.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
            Assert.That(starting.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
            Assert.That(problem, Does.Contain("The service is still starting."));
            Assert.That(starting.Headers.RetryAfter?.Delta, Is.EqualTo(TimeSpan.FromSeconds(5)));
            Assert.That(ready.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }
    }

    [Test]
    public async Task EventStoreDown_IngestAndReadinessReturn503()
    {
        var outage = new StoreOutage();
        using var factory = new LambdaStatsFactory();
        using var storeDown = factory.WithWebHostBuilder(builder => builder.ConfigureTestServices(services =>
        {
            services.RemoveAll<IEventStore>();
            services.AddSingleton<IEventStore>(provider => new FailingEventStore(ActivatorUtilities.CreateInstance<SqliteEventStore>(provider), outage));
        }));
        using var client = storeDown.CreateClient();
        var readyBefore = await WaitForReadyAsync(client);
        var body = $$"""[{"id":"down-1","type":"MediaOpened","occurredAt":"{{DateTimeOffset.UtcNow.AddMinutes(-5):O}}","hubId":"h1","mediaId":"m1"}]""";

        outage.Down = true;
        var ingest = await client.PostAsync("/api/events", new StringContent(body, Encoding.UTF8, "application/json"));
        var problem = await ingest.Content.ReadAsStringAsync();
        var ready = await client.GetAsync("/health/ready");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(readyBefore, Is.EqualTo(HttpStatusCode.OK), "ready while the store responds");
            Assert.That(ingest.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable), problem);
            Assert.That(problem, Does.Contain("A store of the service did not respond."));
            Assert.That(ingest.Headers.RetryAfter?.Delta, Is.EqualTo(TimeSpan.FromSeconds(10)));
            Assert.That(ready.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable), "readiness");
        }
    }

    [Test]
    public async Task Recompute_JobStorageDown_Returns503WithReason()
    {
        var jobs = Substitute.For<IBackgroundJobClient>();
        jobs.Create(Arg.Any<Hangfire.Common.Job>(), Arg.Any<Hangfire.States.IState>())
            .Returns(_ => throw new BackgroundJobClientException("Background job creation failed. See inner exception for details.", new TimeoutException("No redis server available")));
        using var factory = new LambdaStatsFactory();
        using var storageDown = factory.WithWebHostBuilder(builder => builder.ConfigureTestServices(services => services.AddSingleton(jobs)));
        using var client = storageDown.CreateClient();
        var occurredAt = DateTimeOffset.UtcNow.AddDays(-2);
        var body = $$"""[{"id":"down-1","type":"MediaOpened","occurredAt":"{{occurredAt:O}}","hubId":"h1","mediaId":"m1"}]""";
        await client.PostAsync("/api/events", new StringContent(body, Encoding.UTF8, "application/json"));

        var response = await client.PostAsync($"/api/admin/recompute?from={occurredAt.AddDays(-1):yyyy-MM-dd}T00:00:00Z&to={occurredAt.AddDays(1):yyyy-MM-dd}T00:00:00Z", null);
        var problem = await response.Content.ReadAsStringAsync();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
            Assert.That(problem, Does.Contain("The job storage is unavailable."));
            Assert.That(problem, Does.Contain("No redis server available"));
        }
    }

    [Test]
    public async Task Recompute_WithJobServer_RunsChainedJobsAndKeepsAnswer()
    {
        using var factory = new LambdaStatsFactory();
        using var withJobs = factory.WithWebHostBuilder(builder =>
        {
            builder.UseSetting("Hosting:RunJobServer", "true");
            builder.UseSetting("Hosting:JobServerShutdownTimeout", "00:00:01");
            builder.UseSetting("Batch:ScheduleJobs", "false");
        });
        using var client = withJobs.CreateClient();
        var start = DateTimeOffset.UtcNow.AddDays(-3);
        var body = new JsonArray(Enumerable.Range(0, 60).Select(i => (JsonNode)new JsonObject
        {
            ["id"] = $"r{i}",
            ["type"] = "MediaOpened",
            ["occurredAt"] = start.AddMinutes(i * 67).ToString("O"),
            ["hubId"] = "h1",
            ["mediaId"] = $"m{i % 3}",
        }).ToArray());
        await client.PostAsync("/api/events", new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
        await client.PostAsync("/api/admin/batch/run", null);
        var url = $"/api/hubs/h1/aggregations/mediaConsultations?from={start.AddDays(-1):yyyy-MM-dd}T00:00:00Z&bucket=day";
        var before = await client.GetFromJsonAsync<JsonObject>(url);

        var from = UtcHour.Containing(start).Start;
        var response = await client.PostAsync($"/api/admin/recompute?aggregation=mediaConsultations&from={from:yyyy-MM-ddTHH:mm:ssZ}&to={from.AddHours(50):yyyy-MM-ddTHH:mm:ssZ}", null);
        var ticket = await response.Content.ReadFromJsonAsync<JsonObject>();
        var jobIds = ticket!["jobs"]!.AsArray().Select(id => (string)id!).ToList();
        var monitoring = withJobs.Services.GetRequiredService<JobStorage>().GetMonitoringApi();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline && monitoring.JobDetails(jobIds[^1])?.History.FirstOrDefault()?.StateName != "Succeeded")
        {
            await Task.Delay(100);
        }

        var after = await client.GetFromJsonAsync<JsonObject>(url);
        var unknown = await client.PostAsync($"/api/admin/recompute?aggregation=nope&from={from:yyyy-MM-ddTHH:mm:ssZ}&to={from.AddHours(5):yyyy-MM-ddTHH:mm:ssZ}", null);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
            Assert.That(jobIds, Has.Count.EqualTo(3), "50 hours make three daily chunks");
            Assert.That(jobIds.Select(id => monitoring.JobDetails(id).History.First().StateName), Is.All.EqualTo("Succeeded"));
            Assert.That(after!["totals"]!.ToJsonString(), Is.EqualTo(before!["totals"]!.ToJsonString()));
            Assert.That(after["series"]!.ToJsonString(), Is.EqualTo(before["series"]!.ToJsonString()));
            Assert.That(unknown.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        }
    }

    [Test]
    public async Task Query_ParisDayBuckets_OverHttp()
    {
        using var factory = new LambdaStatsFactory();
        using var client = factory.CreateClient();
        var at = new DateTimeOffset(2026, 10, 24, 22, 30, 0, TimeSpan.Zero);
        var body = $$"""{"id":"tz-1","type":"MediaOpened","occurredAt":"{{at:O}}","hubId":"h1","mediaId":"m1"}""";
        await client.PostAsync("/api/events", new StringContent(body, Encoding.UTF8, "application/json"));

        var answer = await client.GetFromJsonAsync<JsonObject>("/api/hubs/h1/aggregations/mediaConsultations?from=2026-10-24T22:00:00Z&to=2026-10-26T23:00:00Z&tz=Europe/Paris&bucket=day");
        var badZone = await client.GetAsync("/api/hubs/h1/aggregations/mediaConsultations?from=2026-10-24T22:00:00Z&tz=Mars/Olympus");
        var badBucket = await client.GetAsync("/api/hubs/h1/aggregations/mediaConsultations?from=2026-10-24T22:00:00Z&bucket=week");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(answer!["series"]!.AsArray().Select(p => (string?)p!["start"]), Is.EqualTo(new[] { "2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z" }), "the 25-hour day of 25 October in Paris");
            Assert.That((long?)answer["series"]![0]!["values"]!["consultations"], Is.EqualTo(1));
            Assert.That((string?)answer["tz"], Is.EqualTo("Europe/Paris"));
            Assert.That(answer.ContainsKey("finalUntil") && answer.ContainsKey("provisionalFrom") && answer.ContainsKey("includesLateEvents"), Is.True);
            Assert.That(badZone.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(badBucket.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        }
    }

    [TestCase("fr-FR", "Tâches", "Recalcul de mediaConsultations, heures de 2026-03-01 10:00Z à 2026-03-01 15:00Z, fin exclue (étape 1 sur 1)", "Batch horaire")]
    [TestCase("en-US", "Jobs", "Recompute mediaConsultations, hours 2026-03-01 10:00Z to 2026-03-01 15:00Z, end excluded (step 1 of 1)", "Hourly batch")]
    public async Task Dashboard_AcceptLanguage_ShowsThatLanguage(string language, string expectedWord, string expectedJobName, string expectedHourlyName)
    {
        // The dashboard answers local requests only, so this test goes through a loopback socket.
        using var factory = new LambdaStatsFactory();
        factory.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        factory.StartServer();
        var address = factory.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
            .Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!.Addresses.First();
        using var client = new HttpClient { BaseAddress = new Uri(address) };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/hangfire");
        request.Headers.AcceptLanguage.ParseAdd(language);

        var response = await client.SendAsync(request);
        var html = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());

        // Without a job server here, the recompute's job stays enqueued and its page shows its
        // name. A recompute schedules jobs only where events are, so one event comes first.
        const string opened = """{"id":"job-name-1","type":"MediaOpened","occurredAt":"2026-03-01T12:30:00Z","hubId":"h1","mediaId":"m1"}""";
        await client.PostAsync("/api/events", new StringContent(opened, Encoding.UTF8, "application/json"));
        var ticket = await client.PostAsync("/api/admin/recompute?aggregation=mediaConsultations&from=2026-03-01T10:00:00Z&to=2026-03-01T15:00:00Z", null);
        var jobId = (string)(await ticket.Content.ReadFromJsonAsync<JsonObject>())!["jobs"]![0]!;
        using var jobRequest = new HttpRequestMessage(HttpMethod.Get, $"/hangfire/jobs/details/{jobId}");
        jobRequest.Headers.AcceptLanguage.ParseAdd(language);
        var jobHtml = WebUtility.HtmlDecode(await (await client.SendAsync(jobRequest)).Content.ReadAsStringAsync());
        using var recurringRequest = new HttpRequestMessage(HttpMethod.Get, "/hangfire/recurring");
        recurringRequest.Headers.AcceptLanguage.ParseAdd(language);
        var recurringHtml = WebUtility.HtmlDecode(await (await client.SendAsync(recurringRequest)).Content.ReadAsStringAsync());

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(html, Does.Contain(expectedWord));
            Assert.That(jobHtml, Does.Contain(expectedJobName));
            Assert.That(recurringHtml, Does.Contain(expectedHourlyName));
        }
    }

    [Test]
    public async Task BatchRun_ServiceStopping_CancelsWith503()
    {
        BlockingSequenceStore? store = null;
        var responded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var serverLogger = LoggedLines.NewLogger();
        var serverLogs = Substitute.For<ILoggerProvider>();
        serverLogs.CreateLogger(Arg.Any<string>()).Returns(serverLogger);
        using var factory = new LambdaStatsFactory();

        // Without the backfill check, only the batch run reads the highest sequence once armed.
        using var blocking = factory.WithWebHostBuilder(builder =>
        {
            builder.UseSetting("Batch:ScheduleJobs", "false");
            builder.ConfigureTestServices(services =>
            {
                services.AddSingleton(serverLogs);

                // Kestrel lets running requests finish before the host disposes its services.
                // The test server does not, so this service delays the stop until the response.
                services.AddHostedService(_ => new DrainingService(responded.Task));
                services.AddSingleton<IEventStore>(provider => store = new BlockingSequenceStore(ActivatorUtilities.CreateInstance<SqliteEventStore>(provider)));
            });
        });
        using var client = blocking.CreateClient();
        Assert.That(await WaitForStatusAsync(client, "/health/ready", HttpStatusCode.OK), Is.EqualTo(HttpStatusCode.OK));

        store!.Armed = true;
        var run = client.PostAsync("/api/admin/batch/run", null);
        await store.Entered.Task.WaitAsync(TimeSpan.FromSeconds(30));
        blocking.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();
        var response = await run.WaitAsync(TimeSpan.FromSeconds(30));
        var body = await response.Content.ReadAsStringAsync();
        responded.SetResult();
        var serverErrors = serverLogger.ReceivedCalls()
            .Where(call => call.GetMethodInfo().Name == nameof(ILogger.Log) && call.GetArguments()[0] is LogLevel.Error or LogLevel.Critical)
            .Select(call => $"{call.GetArguments()[2]} {call.GetArguments()[3]}");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable), () => "server errors: " + string.Join(" | ", serverErrors));
            Assert.That(body, Does.Contain("The service is stopping.").And.Contain("next run computes their hours"));
        }
    }

    private static async Task<HttpStatusCode> WaitForStatusAsync(HttpClient client, string path, HttpStatusCode expected)
    {
        var status = HttpStatusCode.ServiceUnavailable;
        for (var attempt = 0; attempt < 300 && status != expected; attempt++)
        {
            status = (await client.GetAsync(path)).StatusCode;
            if (status != expected)
            {
                await Task.Delay(100);
            }
        }

        return status;
    }

    /// <summary>A hosted service whose stop waits for <paramref name="responded"/>, as Kestrel waits for running requests, within the shutdown timeout.</summary>
    private sealed class DrainingService(Task responded) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => responded.WaitAsync(cancellationToken);
    }

    /// <summary>An event store whose reads of the highest sequence, once armed, wait until they are cancelled: a batch run that takes long.</summary>
    private sealed class BlockingSequenceStore(IEventStore inner) : DelegatingEventStore(inner)
    {
        public volatile bool Armed;

        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override async Task<long> GetMaxSequenceAsync(CancellationToken cancellationToken)
        {
            if (Armed)
            {
                Entered.TrySetResult();
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            return await base.GetMaxSequenceAsync(cancellationToken);
        }
    }

    /// <summary>An event store whose first read of the highest sequence waits for a signal: a rebuild that takes long.</summary>
    private sealed class SlowFirstReadStore(IEventStore inner, Task released) : DelegatingEventStore(inner)
    {

        public override async Task<long> GetMaxSequenceAsync(CancellationToken cancellationToken)
        {
            await released.WaitAsync(cancellationToken);
            return await base.GetMaxSequenceAsync(cancellationToken);
        }
    }

    private static async Task<HttpStatusCode> WaitForReadyAsync(HttpClient client)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        HttpStatusCode status;
        do
        {
            status = (await client.GetAsync("/health/ready")).StatusCode;
            if (status == HttpStatusCode.OK)
            {
                break;
            }

            await Task.Delay(50);
        }
        while (DateTime.UtcNow < deadline);

        return status;
    }

    private sealed class StoreOutage
    {
        public volatile bool Down;
    }

    /// <summary>An event store that throws what the MongoDB driver throws when no server responds, once the outage begins.</summary>
    private sealed class FailingEventStore(IEventStore inner, StoreOutage outage) : DelegatingEventStore(inner)
    {
        public override Task<AppendResult> AppendAsync(IReadOnlyList<LambdaEvent> events, CancellationToken cancellationToken) =>
            outage.Down ? throw new TimeoutException("A timeout occurred after 30000ms selecting a server.") : base.AppendAsync(events, cancellationToken);

        public override Task<long> GetMaxSequenceAsync(CancellationToken cancellationToken) =>
            outage.Down ? throw new TimeoutException("A timeout occurred after 30000ms selecting a server.") : base.GetMaxSequenceAsync(cancellationToken);
    }
}
