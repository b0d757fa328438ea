using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Common;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.View.Contracts;
using LambdaStats.Tests.Storage;
using LambdaStats.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace LambdaStats.Tests.Lambda;

/// <summary>A process that stops at any point, even in the middle of a batch, restarts with the same answers.</summary>
[TestFixture]
public sealed class RestartTests
{
    private static readonly string[] Aggregations = ["mediaConsultations", "pageViews", "hubVisits"];

    [Test]
    public async Task KilledDuringBatch_Restarted_GivesSameAnswers()
    {
        using var directory = new TemporaryDirectory();
        var now = new DateTimeOffset(2026, 4, 7, 15, 20, 0, TimeSpan.Zero);
        var clock = new FakeTimeProvider(now.AddDays(-2));
        var before = new Dictionary<string, string>();
        var eventStore = directory.OpenEventStore();
        var viewStore = directory.OpenViewStore();
        var frozen = new FreezingViewStore(viewStore, freezeOnCommit: 2);
        var harness = new LambdaCoreHarness(eventStore, frozen, clock);
        await harness.StartAsync();
        await IngestHistoryAsync(harness, clock, now);
        await harness.RunHourlyAsync();
        await harness.IngestAsync(Event("late-1", EventType.MediaOpened, now.AddHours(-20)), Event("late-2", EventType.HubVisited, now.AddHours(-30)));
        foreach (var name in Aggregations)
        {
            before[name] = await AnswerAsync(harness, name, now);
        }

        // The batch commits one aggregation, then the process dies while committing the next.
        frozen.Arm();
        var dying = harness.RunHourlyAsync();
        await frozen.Frozen.WaitAsync(TimeSpan.FromSeconds(30));
        eventStore.Dispose();
        viewStore.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();

        using var events = directory.OpenEventStore();
        using var views = directory.OpenViewStore();
        await using var restarted = new LambdaCoreHarness(events, views, clock);
        await restarted.StartAsync();
        var afterRestart = new Dictionary<string, string>();
        var afterBatch = new Dictionary<string, string>();
        foreach (var name in Aggregations)
        {
            afterRestart[name] = await AnswerAsync(restarted, name, now);
        }

        await restarted.RunHourlyAsync();
        foreach (var name in Aggregations)
        {
            afterBatch[name] = await AnswerAsync(restarted, name, now);
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(dying.IsCompleted, Is.False, "the first process never finished its batch");
            Assert.That(afterRestart, Is.EqualTo(before), "answers after the restart");
            Assert.That(afterBatch, Is.EqualTo(before), "answers after the restarted process's batch");
        }
    }

    /// <summary>The real service, killed with SIGKILL while a batch runs over many hours, then started again.</summary>
    [Test]
    public async Task ServiceProcess_KilledDuringBatch_RestartsWithSameAnswers()
    {
        using var directory = new TemporaryDirectory();
        var port = FreePort();
        var url = $"http://127.0.0.1:{port}";
        var from = DateTimeOffset.UtcNow.AddDays(-6);
        using var client = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(60) };

        var first = StartService(directory.Path, url);
        try
        {
            await WaitUntilReadyAsync(client);
            for (var batch = 0; batch < 20; batch++)
            {
                var body = new JsonArray(Enumerable.Range(0, 2_000).Select(i =>
                {
                    var n = batch * 2_000 + i;
                    return (JsonNode)new JsonObject
                    {
                        ["id"] = $"k{n}",
                        ["type"] = n % 3 == 0 ? "HubVisited" : "MediaOpened",
                        ["occurredAt"] = from.AddSeconds(n * 12).ToString("O"),
                        ["hubId"] = $"h{n % 4}",
                        ["mediaId"] = $"m{n % 50}",
                    };
                }).ToArray());
                var response = await client.PostAsync("/api/events", new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
                Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            }

            var before = await AnswersAsync(client, from);
            _ = client.PostAsync("/api/admin/batch/run", null);
            await Task.Delay(150);
            first.Kill(entireProcessTree: true);
            await first.WaitForExitAsync();

            using var second = StartService(directory.Path, url);
            try
            {
                await WaitUntilReadyAsync(client);
                var afterRestart = await AnswersAsync(client, from);
                var run = await client.PostAsync("/api/admin/batch/run", null);
                var afterBatch = await AnswersAsync(client, from);

                using (Assert.EnterMultipleScope())
                {
                    Assert.That(afterRestart, Is.EqualTo(before), "answers after the restart");
                    Assert.That(run.StatusCode, Is.EqualTo(HttpStatusCode.OK));
                    Assert.That(afterBatch, Is.EqualTo(before), "answers after a full batch");
                }
            }
            finally
            {
                second.Kill(entireProcessTree: true);
                await second.WaitForExitAsync();
            }
        }
        finally
        {
            if (!first.HasExited)
            {
                first.Kill(entireProcessTree: true);
            }

            first.Dispose();
        }
    }

    private static async Task IngestHistoryAsync(LambdaCoreHarness harness, FakeTimeProvider clock, DateTimeOffset now)
    {
        var n = 0;
        for (var t = now.AddDays(-2); t < now; t = t.AddMinutes(37))
        {
            clock.SetUtcNow(t);
            await harness.IngestAsync(
                Event($"o{n}", EventType.MediaOpened, t),
                Event($"p{n}", EventType.PageViewed, t.AddMinutes(-3)),
                Event($"v{n}", EventType.HubVisited, t.AddMinutes(-1)));
            n++;
        }

        clock.SetUtcNow(now);
    }

    /// <summary>An event of hub h1; also used by <see cref="ViewStoreUpgradeTests"/>.</summary>
    internal static LambdaEvent Event(string id, EventType type, DateTimeOffset at) => new()
    {
        Id = id,
        Type = type,
        OccurredAt = at,
        HubId = "h1",
        MediaId = type == EventType.HubVisited ? null : $"m{id.Length % 3}",
        Page = type == EventType.PageViewed ? 1 + (id.Length % 4) : null,
        DurationSeconds = type == EventType.PageViewed ? 2.5 : null,
    };

    private static async Task<string> AnswerAsync(LambdaCoreHarness harness, string aggregation, DateTimeOffset now) =>
        BruteForce.Of(await harness.QueryAsync(aggregation, "h1", now.AddDays(-3), now.AddHours(1), groupBy: aggregation == "hubVisits" ? null : "mediaId"));

    private static async Task<Dictionary<string, string>> AnswersAsync(HttpClient client, DateTimeOffset from)
    {
        var answers = new Dictionary<string, string>();
        foreach (var hub in new[] { "h0", "h1", "h2", "h3" })
        {
            foreach (var aggregation in new[] { "mediaConsultations", "hubVisits" })
            {
                var answer = await client.GetFromJsonAsync<JsonObject>($"/api/hubs/{hub}/aggregations/{aggregation}?from={from.AddDays(-1):yyyy-MM-dd}T00:00:00Z&bucket=day");
                answers[$"{hub} {aggregation}"] = answer!["totals"]!.ToJsonString() + answer["series"]!.ToJsonString();
            }
        }

        return answers;
    }

    private static Process StartService(string dataDirectory, string url)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "LambdaStats.Web.dll"), "--urls", url])
        {
            WorkingDirectory = dataDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["Storage__DataDirectory"] = dataDirectory;
        start.Environment["Hosting__RunJobServer"] = "false";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task WaitUntilReadyAsync(HttpClient client)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if ((await client.GetAsync("/health/ready")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(200);
        }

        Assert.Fail("The service did not become ready within 60 s.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A view store whose n-th commit after <see cref="Arm"/> never completes, as in a process that died there.</summary>
    private sealed class FreezingViewStore(IViewStore inner, int freezeOnCommit) : DelegatingViewStore(inner)
    {
        private readonly TaskCompletionSource frozen = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int commitsLeft = -1;

        public Task Frozen => frozen.Task;

        public void Arm() => commitsLeft = freezeOnCommit;

        public override async Task CommitAsync(AggregationDefinition aggregation, IReadOnlyList<BucketRows<UtcHour>> hours, IReadOnlyList<BucketRows<UtcDay>> days, BatchFrontier frontier, CancellationToken cancellationToken)
        {
            if (commitsLeft > 0 && --commitsLeft == 0)
            {
                frozen.TrySetResult();
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            await base.CommitAsync(aggregation, hours, days, frontier, cancellationToken);
        }
    }
}
