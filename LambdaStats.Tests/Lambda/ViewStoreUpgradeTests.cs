using LambdaStats.Modules.Batch;
using LambdaStats.Modules.Batch.Contracts;
using LambdaStats.Modules.Common;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.Storage.Sqlite;
using LambdaStats.Modules.View.Contracts;
using LambdaStats.Tests.Storage;
using LambdaStats.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using NSubstitute;

namespace LambdaStats.Tests.Lambda;

/// <summary>A views.db written by schema version 1 (one JSON row per key) is dropped at startup and rebuilt from the events.</summary>
[TestFixture]
public sealed class ViewStoreUpgradeTests
{
    private static readonly DateTimeOffset Now = new(2026, 6, 3, 9, 40, 0, TimeSpan.Zero);

    private static readonly string[] Aggregations = ["mediaConsultations", "pageViews", "hubVisits"];

    [Test]
    public async Task OldFormatViews_DroppedAndBackfilled()
    {
        using var directory = new TemporaryDirectory();
        var clock = new FakeTimeProvider(Now.AddDays(-2));
        var before = new Dictionary<string, string>();
        using (var events = directory.OpenEventStore())
        using (var views = directory.OpenViewStore())
        {
            await using var harness = new LambdaCoreHarness(events, views, clock);
            await harness.StartAsync();
            for (var (t, n) = (Now.AddDays(-2), 0); t < Now; t = t.AddMinutes(41), n++)
            {
                clock.SetUtcNow(t);
                await harness.IngestAsync(RestartTests.Event($"o{n}", EventType.MediaOpened, t), RestartTests.Event($"p{n}", EventType.PageViewed, t), RestartTests.Event($"v{n}", EventType.HubVisited, t));
            }

            clock.SetUtcNow(Now);
            await harness.RunHourlyAsync();
            await harness.RunDailyAsync();
            foreach (var name in Aggregations)
            {
                before[name] = await AnswerAsync(harness, name);
            }
        }

        SqliteConnection.ClearAllPools();
        var viewsPath = Path.Combine(directory.Path, SqliteStorageOptions.ViewsFileName);
        WriteVersion1Views(viewsPath);

        var logger = new RecordingLogger<SqliteViewStore>();
        using var eventStore = directory.OpenEventStore();
        using var viewStore = new SqliteViewStore(directory.Options(), logger);
        var scheduler = Substitute.For<IRecomputeScheduler>();
        await using var restarted = new LambdaCoreHarness(eventStore, viewStore, clock, services => services.AddSingleton(scheduler));
        await restarted.StartAsync();
        var frontier = await viewStore.GetFrontierAsync("old-view", CancellationToken.None);
        var afterRestart = new Dictionary<string, string>();
        foreach (var name in Aggregations)
        {
            afterRestart[name] = await AnswerAsync(restarted, name);
        }

        await ActivatorUtilities.CreateInstance<BackfillStarter>(restarted.Services).ScheduleMissingBackfillsAsync(CancellationToken.None);
        var afterBackfill = new Dictionary<string, string>();
        foreach (var name in Aggregations)
        {
            await restarted.SendAsync(new BackfillStep(name, UtcHour.Containing(Now)));
            afterBackfill[name] = await AnswerAsync(restarted, name);
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(logger.Entries, Has.One.Matches<(LogLevel Level, EventId EventId, string Message)>(entry => entry.Level == LogLevel.Warning && entry.Message.Contains(viewsPath)));
            Assert.That(frontier, Is.EqualTo(BatchFrontier.Initial), "the old frontiers are gone");
            Assert.That(OldTables(viewsPath), Is.Empty);
            scheduler.Received(1).ScheduleBackfill("mediaConsultations", Arg.Is<IReadOnlyList<UtcHour>>(hours => hours[0] == UtcHour.Containing(Now.AddDays(-2))), UtcHour.Containing(Now));
            Assert.That(afterRestart, Is.EqualTo(before), "answers from the speed layer before the backfill");
            Assert.That(afterBackfill, Is.EqualTo(before), "answers after the backfill");
        }
    }

    /// <summary>Replaces views.db by a file of schema version 1 whose rows and frontiers would give wrong results if read.</summary>
    private static void WriteVersion1Views(string path)
    {
        foreach (var file in new[] { path, path + "-wal", path + "-shm" })
        {
            File.Delete(file);
        }

        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            CREATE TABLE hourly_rows (aggregation TEXT NOT NULL, hour INTEGER NOT NULL, k0 TEXT NOT NULL, k1 TEXT NOT NULL, k2 TEXT NOT NULL, k3 TEXT NOT NULL, state BLOB NOT NULL, PRIMARY KEY (aggregation, hour, k0, k1, k2, k3)) STRICT;
            CREATE INDEX hourly_rows_hub ON hourly_rows (aggregation, k0, hour);
            CREATE TABLE daily_rows (aggregation TEXT NOT NULL, day INTEGER NOT NULL, k0 TEXT NOT NULL, k1 TEXT NOT NULL, k2 TEXT NOT NULL, k3 TEXT NOT NULL, state BLOB NOT NULL, PRIMARY KEY (aggregation, day, k0, k1, k2, k3)) STRICT;
            CREATE INDEX daily_rows_hub ON daily_rows (aggregation, k0, day);
            CREATE TABLE frontiers (aggregation TEXT PRIMARY KEY, watermark_hour INTEGER NOT NULL, sequence INTEGER NOT NULL, daily_watermark_day INTEGER NOT NULL) STRICT;
            INSERT INTO frontiers VALUES ('old-view', 500000, 99, 20000);
            INSERT INTO hourly_rows VALUES ('old-view', 499999, 'h1', 'm0', '', '', CAST('[12345]' AS BLOB));
            PRAGMA user_version = 1;
            """;
        command.ExecuteNonQuery();
    }

    private static List<string> OldTables(string path)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT name FROM sqlite_schema WHERE name IN ('hourly_rows', 'daily_rows');";
        using var reader = command.ExecuteReader();
        var names = new List<string>();
        while (reader.Read())
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }

    private static async Task<string> AnswerAsync(LambdaCoreHarness harness, string aggregation) =>
        BruteForce.Of(await harness.QueryAsync(aggregation, "h1", Now.AddDays(-3), Now.AddHours(1), groupBy: aggregation == "hubVisits" ? null : "mediaId"));
}
