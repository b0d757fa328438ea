using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.Storage.MongoDb;
using LambdaStats.Tests.Storage;
using LambdaStats.Tests.Support;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace LambdaStats.Tests.Web;

/// <summary>
/// The whole service with <c>Storage:Events=MongoDb</c>, on the server that
/// <c>LAMBDASTATS_TEST_MONGODB</c> names; skipped without it. <see cref="ServiceRunnerTests"/>
/// checks the settings, which need no server.
/// </summary>
[TestFixture]
public sealed class MongoEventStoreHostTests
{
    /// <summary>The README's first example with the events in MongoDB, then a restart that rebuilds the speed layer from there.</summary>
    [Test]
    public async Task ReadmeExample_EventsInMongoDb_SameAnswers()
    {
        using var database = MongoTestDatabase.CreateOrIgnore();
        var dataDirectory = Path.Combine(Path.GetTempPath(), "lambdastats-tests", Guid.NewGuid().ToString("N"));
        try
        {
            await RunReadmeExampleAsync(database, dataDirectory);
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

    private static async Task RunReadmeExampleAsync(MongoTestDatabase database, string dataDirectory)
    {
        var occurredAt = DateTimeOffset.UtcNow.AddHours(-1);
        var url = $"/api/hubs/demo/aggregations/mediaConsultations?from={occurredAt.AddDays(-1):yyyy-MM-dd}T00:00:00Z&groupBy=mediaId";
        HttpResponseMessage post;
        JsonObject? before;
        JsonObject? afterBatch;
        IEventStore? store;
        using (var first = new MongoFactory(database, dataDirectory))
        {
            using var client = first.CreateClient();
            var body = $$"""[{"id":"mongo-1","type":"MediaOpened","occurredAt":"{{occurredAt:O}}","hubId":"demo","mediaId":"brochure.pdf"},{"id":"mongo-2","type":"MediaOpened","occurredAt":"{{occurredAt:O}}","hubId":"demo","mediaId":"brochure.pdf"}]""";
            post = await client.PostAsync("/api/events", new StringContent(body, Encoding.UTF8, "application/json"));
            before = await client.GetFromJsonAsync<JsonObject>(url);
            await client.PostAsync("/api/admin/batch/run", null);
            afterBatch = await client.GetFromJsonAsync<JsonObject>(url);
            store = first.Services.GetRequiredService<IEventStore>();
        }

        // A late event of the same hour, stored after the batch, reaches the restarted speed layer
        // only through its rebuild from MongoDB.
        using (var seed = database.OpenEventStore())
        {
            await seed.AppendAsync([new LambdaEvent { Id = "mongo-3", Type = EventType.MediaOpened, OccurredAt = occurredAt, HubId = "demo", MediaId = "brochure.pdf" }], CancellationToken.None);
        }

        using var second = new MongoFactory(database, dataDirectory);
        using var restarted = second.CreateClient();
        var afterRestart = await WaitForReadyThenQueryAsync(restarted, url);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(post.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(store, Is.InstanceOf<MongoEventStore>());
            Assert.That(File.Exists(Path.Combine(dataDirectory, "events.db")), Is.False);
            Assert.That((long?)before!["totals"]!["consultations"], Is.EqualTo(2));
            Assert.That((long?)afterBatch!["totals"]!["consultations"], Is.EqualTo(2));
            Assert.That((string?)afterBatch["watermark"], Is.Not.Null);
            Assert.That((long?)afterRestart!["totals"]!["consultations"], Is.EqualTo(3));
        }
    }

    private static async Task<JsonObject?> WaitForReadyThenQueryAsync(HttpClient client, string url)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await client.GetAsync("/health/ready")).StatusCode != HttpStatusCode.OK && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        return await client.GetFromJsonAsync<JsonObject>(url);
    }

    private sealed class MongoFactory(MongoTestDatabase database, string dataDirectory) : LambdaStatsFactory(dataDirectory)
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("Storage:Events", "MongoDb");
            builder.UseSetting("Storage:MongoDb:ConnectionString", database.ConnectionString);
            builder.UseSetting("Storage:MongoDb:Database", database.Name);
        }
    }
}
