using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Hangfire;
using LambdaStats.Tests.Support;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace LambdaStats.Tests.Web;

/// <summary>
/// The service with <c>Jobs:Storage=Redis</c> against a real Redis server, whose address
/// (<c>host:port</c>) comes from <c>LAMBDASTATS_TEST_REDIS</c>. <c>.ci/run</c> starts one on
/// 127.0.0.1:6379; without the variable, every test here is skipped with a message. Each test
/// uses its own key prefix and deletes its keys.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class RedisJobStorageTests
{
    private const string AddressVariable = "LAMBDASTATS_TEST_REDIS";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private string address = null!;
    private string prefix = null!;
    private ConnectionMultiplexer redis = null!;

    [OneTimeSetUp]
    public async Task ConnectToRedis()
    {
        var configured = Environment.GetEnvironmentVariable(AddressVariable);
        if (string.IsNullOrWhiteSpace(configured))
        {
            Assert.Ignore($"Skipped: no Redis server. Set {AddressVariable}=127.0.0.1:6379 to the address of one; .ci/run starts one.");
        }

        address = configured;
        redis = await ConnectionMultiplexer.ConnectAsync(address);
    }

    [OneTimeTearDown]
    public void Disconnect() => redis?.Dispose();

    [SetUp]
    public void ChoosePrefix() => prefix = $"lambdastats-tests:{Guid.NewGuid():N}:";

    [TearDown]
    public async Task DeleteKeys()
    {
        var server = redis.GetServer(redis.GetEndPoints()[0]);
        foreach (var key in server.Keys(pattern: prefix + "*"))
        {
            await redis.GetDatabase().KeyDeleteAsync(key);
        }
    }

    [Test]
    public async Task RecurringJobs_AreStoredInRedis()
    {
        using var factory = new RedisFactory(address, prefix, runJobServer: false);
        using var client = factory.CreateClient();

        var recurring = await redis.GetDatabase().SortedSetRangeByRankAsync(prefix + "recurring-jobs");

        Assert.That(recurring.Select(id => id.ToString()), Is.SupersetOf(new[] { "hourly-batch", "daily-views" }));
    }

    [Test]
    public async Task EnqueuedRecompute_RunsAfterRestart()
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "lambdastats-tests", Guid.NewGuid().ToString("N"));
        var occurredAt = DateTimeOffset.UtcNow.AddDays(-2);
        var hour = new DateTimeOffset(occurredAt.Year, occurredAt.Month, occurredAt.Day, occurredAt.Hour, 0, 0, TimeSpan.Zero);
        try
        {
            string jobId;
            using (var first = new RedisFactory(address, prefix, runJobServer: false, dataDirectory))
            {
                // Without a job server, the recompute only waits in the storage when this host stops.
                using var client = first.CreateClient();
                var body = $$"""[{"id":"redis-1","type":"MediaOpened","occurredAt":"{{occurredAt:O}}","hubId":"h1","mediaId":"m1"}]""";
                var posted = await client.PostAsync("/api/events", new StringContent(body, Encoding.UTF8, "application/json"));
                Assert.That(posted.StatusCode, Is.EqualTo(HttpStatusCode.OK), "event stored");
                var scheduled = await client.PostAsync($"/api/admin/recompute?aggregation=mediaConsultations&from={hour.UtcDateTime:yyyy-MM-dd'T'HH}:00:00Z&to={hour.AddHours(1).UtcDateTime:yyyy-MM-dd'T'HH}:00:00Z", null);
                var ticket = await scheduled.Content.ReadFromJsonAsync<JsonObject>();
                Assert.That(scheduled.StatusCode, Is.EqualTo(HttpStatusCode.Accepted), ticket?.ToJsonString());
                jobId = (string)ticket!["jobs"]!.AsArray().Single()!;
            }

            using var second = new RedisFactory(address, prefix, runJobServer: true, dataDirectory);
            using var restarted = second.CreateClient();
            var state = await WaitForFinalStateAsync(second.Services.GetRequiredService<JobStorage>(), jobId);

            Assert.That(state, Is.EqualTo("Succeeded"));
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

    private static async Task<string?> WaitForFinalStateAsync(JobStorage storage, string jobId)
    {
        var deadline = DateTime.UtcNow + Patience;
        string? state;
        do
        {
            using (var connection = storage.GetConnection())
            {
                state = connection.GetStateData(jobId)?.Name;
            }

            if (state is "Succeeded" or "Failed" or "Deleted")
            {
                return state;
            }

            await Task.Delay(100);
        }
        while (DateTime.UtcNow < deadline);

        return state;
    }

    private sealed class RedisFactory(string address, string prefix, bool runJobServer, string? dataDirectory = null) : LambdaStatsFactory(dataDirectory)
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("Jobs:Storage", "Redis");
            builder.UseSetting("Jobs:Redis:Configuration", address);
            builder.UseSetting("Jobs:Redis:Prefix", prefix);
            builder.UseSetting("Hosting:RunJobServer", runJobServer ? "true" : "false");
            builder.UseSetting("Hosting:JobServerShutdownTimeout", "00:00:01");
        }
    }
}
