using System.Globalization;
using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Batch.Contracts;
using LambdaStats.Modules.Common;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.View.Contracts;
using LambdaStats.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace LambdaStats.Tests.Lambda;

/// <summary>
/// The invariant of the service: whatever the interleaving of events, duplicate deliveries,
/// late events, batch runs (also far behind), daily runs, restarts and queries racing with a
/// batch, every answer equals a brute-force aggregation of the stored events.
/// </summary>
/// <remarks>
/// Scenarios are generated from a seed. Set LAMBDASTATS_INVARIANT_SCENARIOS to run more (default
/// 10,000) and LAMBDASTATS_INVARIANT_SEED to replay another series; a failure prints the seed and
/// the scenario number, which replay it alone.
/// </remarks>
[TestFixture]
public sealed class InvariantTests
{
    private static readonly string[] Aggregations = ["mediaConsultations", "pageViews", "hubVisits"];
    private static readonly string[] Hubs = ["h1", "h2", "h3"];
    private static readonly string[] Media = ["m1", "m2", "m3", "m4", "m5"];

    /// <summary>Zones with whole-hour, +05:30, +05:45 and -03:30 offsets, two of them with DST.</summary>
    private static readonly TimeZoneInfo[] Zones =
        new[] { "UTC", "Europe/Paris", "Asia/Kolkata", "Asia/Kathmandu", "America/St_Johns" }.Select(TimeZoneInfo.FindSystemTimeZoneById).ToArray();

    /// <summary>Scenario starts a few days before DST changes in Europe/Paris and America/St_Johns, and in a quiet month.</summary>
    private static readonly DateTimeOffset[] StartDays =
    [
        new(2026, 3, 1, 0, 0, 0, TimeSpan.Zero),
        new(2026, 3, 6, 0, 0, 0, TimeSpan.Zero),
        new(2026, 3, 27, 0, 0, 0, TimeSpan.Zero),
        new(2026, 10, 23, 0, 0, 0, TimeSpan.Zero),
        new(2026, 10, 30, 0, 0, 0, TimeSpan.Zero),
    ];

    private static int seriesQueries;

    [Test]
    public async Task Answers_AnyInterleaving_EqualBruteForce()
    {
        var scenarios = ReadSetting("LAMBDASTATS_INVARIANT_SCENARIOS", 10_000);
        var seed = ReadSetting("LAMBDASTATS_INVARIANT_SEED", 20_260_110);
        var totals = new ScenarioCounters();
        for (var scenario = 0; scenario < scenarios; scenario++)
        {
            var views = new InMemoryViewStore();
            await RunScenarioAsync(seed, scenario, new InMemoryEventStore(), views, views, totals);
        }

        AssertCoverage(scenarios, seed, totals, forcedInterleavings: true);
    }

    /// <summary>The same scenarios over the SQLite adapters the service runs on, fewer because each opens two database files.</summary>
    [Test]
    public async Task Answers_AnyInterleavingOnSqlite_EqualBruteForce()
    {
        var scenarios = ReadSetting("LAMBDASTATS_INVARIANT_SQLITE_SCENARIOS", 150);
        var seed = ReadSetting("LAMBDASTATS_INVARIANT_SEED", 20_260_110) + 1;
        var totals = new ScenarioCounters();
        for (var scenario = 0; scenario < scenarios; scenario++)
        {
            using var directory = new Storage.TemporaryDirectory();
            using var events = directory.OpenEventStore();
            using var views = directory.OpenViewStore();
            await RunScenarioAsync(seed, scenario, events, views, hooks: null, totals);
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        }

        AssertCoverage(scenarios, seed, totals, forcedInterleavings: false);
    }

    private static void AssertCoverage(int scenarios, int seed, ScenarioCounters totals, bool forcedInterleavings)
    {
        TestContext.Out.WriteLine($"{scenarios} scenarios (seed {seed}): {totals}; {seriesQueries} series queries so far");
        Assert.Multiple(() =>
        {
            Assert.That(totals.Queries, Is.GreaterThan(scenarios), "queries compared");
            Assert.That(seriesQueries, Is.GreaterThan(0), "queries with a series");
            Assert.That(totals.RacingQueries, Is.GreaterThan(0), "queries racing with a batch");
            Assert.That(totals.LateEvents, Is.GreaterThan(0), "late events ingested");
            Assert.That(totals.Restarts, Is.GreaterThan(0), "restarts");
            Assert.That(totals.Duplicates, Is.GreaterThan(0), "duplicate deliveries");
            if (forcedInterleavings)
            {
                Assert.That(totals.EventsDuringBatch, Is.GreaterThan(0), "events ingested while a batch runs");
                Assert.That(totals.Recomputes, Is.GreaterThan(0), "operator recomputes racing with a query");
            }
        });
    }

    /// <param name="hooks">The view store's test hooks, to force interleavings; null skips those steps.</param>
    private static async Task RunScenarioAsync(int seed, int scenario, IEventStore events, IViewStore views, InMemoryViewStore? hooks, ScenarioCounters totals)
    {
        var random = new Random(HashCode.Combine(seed, scenario));
        var start = StartDays[random.Next(StartDays.Length)].AddMinutes(random.Next(0, 60 * 24 * 3));
        var clock = new FakeTimeProvider(start);
        var harness = new LambdaCoreHarness(events, views, clock);
        await harness.StartAsync();
        var catalog = harness.Services.GetRequiredService<AggregationCatalog>();
        var sent = new List<LambdaEvent>();
        var steps = random.Next(20, 60);
        try
        {
            for (var step = 0; step < steps; step++)
            {
                var roll = random.Next(100);
                if (roll < 40)
                {
                    var batch = NewEvents(random, clock.GetUtcNow(), sent, totals);
                    await harness.IngestAsync(batch);
                }
                else if (roll < 58)
                {
                    clock.Advance(TimeSpan.FromMinutes(random.Next(1, random.Next(2) == 0 ? 30 : 200)));
                }
                else if (roll < 68)
                {
                    await harness.RunHourlyAsync();
                }
                else if (roll < 71)
                {
                    await harness.RunDailyAsync();
                }
                else if (roll < 74)
                {
                    AssertNoDivergence(harness, seed, scenario);
                    await harness.DisposeAsync();
                    harness = new LambdaCoreHarness(events, views, clock);
                    await harness.StartAsync();
                    totals.Restarts++;
                }
                else if (roll < 80 && hooks is null)
                {
                    await harness.RunHourlyAsync();
                }
                else if (roll < 77)
                {
                    // A batch commits between the query's snapshot and its read of the views.
                    var query = NewQuery(random, clock.GetUtcNow(), start);
                    var current = harness;
                    if (random.Next(2) == 0)
                    {
                        hooks!.OnNextRead = async () => await current.RunHourlyAsync();
                    }
                    else
                    {
                        // An operator's recompute of a range rewrites final views under the query.
                        var recomputeFrom = UtcHour.Containing(clock.GetUtcNow()).AddHours(-random.Next(1, 100));
                        var recomputeTo = recomputeFrom.AddHours(random.Next(1, 30));
                        hooks!.OnNextRead = async () => await current.SendAsync(new RecomputeHours(null, recomputeFrom, recomputeTo));
                        totals.Recomputes++;
                    }

                    Check(seed, scenario, step, catalog, sent, query, await AnswerAsync(harness, query));
                    hooks.OnNextRead = null;
                    totals.RacingQueries++;
                }
                else if (roll < 80)
                {
                    // Events, late ones included, arrive between the batch's seal and its commit.
                    var batch = NewEvents(random, clock.GetUtcNow(), sent, totals);
                    var current = harness;
                    hooks!.OnNextCommit = async () => await current.IngestAsync(batch);
                    await harness.RunHourlyAsync();
                    hooks.OnNextCommit = null;
                    totals.EventsDuringBatch += batch.Length;
                }
                else if (roll < 84)
                {
                    var query = NewQuery(random, clock.GetUtcNow(), start);
                    var racing = Task.Run(() => AnswerAsync(harness, query));
                    await harness.RunHourlyAsync();
                    Check(seed, scenario, step, catalog, sent, query, await racing);
                    totals.RacingQueries++;
                }
                else
                {
                    var query = NewQuery(random, clock.GetUtcNow(), start);
                    Check(seed, scenario, step, catalog, sent, query, await AnswerAsync(harness, query));
                    totals.Queries++;
                }
            }
        }
        finally
        {
            AssertNoDivergence(harness, seed, scenario);
            await harness.DisposeAsync();
        }
    }

    /// <summary>Every hour the batch completed matched the speed layer's buffers, key by key.</summary>
    private static void AssertNoDivergence(LambdaCoreHarness harness, int seed, int scenario)
    {
        var divergences = harness.Speed.DivergenceCount;
        if (divergences != 0)
        {
            Assert.Fail($"Seed {seed}, scenario {scenario}: {divergences} keys diverged between the speed buffers and the batch views (see the log).");
        }
    }

    private static LambdaEvent[] NewEvents(Random random, DateTimeOffset now, List<LambdaEvent> sent, ScenarioCounters totals)
    {
        var count = random.Next(1, 5);
        var batch = new LambdaEvent[count];
        for (var i = 0; i < count; i++)
        {
            if (sent.Count > 0 && random.Next(10) == 0)
            {
                batch[i] = sent[random.Next(sent.Count)];
                totals.Duplicates++;
                continue;
            }

            var lateness = random.Next(100) switch
            {
                < 70 => TimeSpan.FromSeconds(random.Next(0, 3600)),
                < 92 => TimeSpan.FromMinutes(random.Next(60, 600)),
                _ => TimeSpan.FromMinutes(random.Next(600, 60 * 24 * 4)),
            };
            if (lateness > TimeSpan.FromHours(1))
            {
                totals.LateEvents++;
            }

            var type = random.Next(3) switch
            {
                0 => EventType.MediaOpened,
                1 => EventType.PageViewed,
                _ => EventType.HubVisited,
            };
            var e = new LambdaEvent
            {
                Id = $"e{sent.Count}-{random.Next()}",
                Type = type,
                OccurredAt = (random.Next(20) == 0 ? UtcHour.Containing(now - lateness).Start : now - lateness).AddTicks(0),
                HubId = Hubs[random.Next(Hubs.Length)],
                MediaId = type == EventType.HubVisited ? null : Media[random.Next(Media.Length)],
                Page = type == EventType.PageViewed ? random.Next(1, 5) : null,
                DurationSeconds = type == EventType.PageViewed && random.Next(4) > 0 ? random.Next(0, 40) * 0.5 : null,
                VisitorId = random.Next(5) == 0 ? null : $"v{random.Next(1, 7)}",
            };
            sent.Add(e);
            batch[i] = e;
        }

        return batch;
    }

    private static QuerySpec NewQuery(Random random, DateTimeOffset now, DateTimeOffset scenarioStart)
    {
        var aggregation = Aggregations[random.Next(Aggregations.Length)];
        var earliest = UtcHour.Containing(scenarioStart).AddHours(-24 * 5);
        var latest = UtcHour.Containing(now).AddHours(2);
        var span = (int)(latest.Index - earliest.Index);
        var fromHour = earliest.AddHours(random.Next(span));
        var toHour = fromHour.AddHours(random.Next(1, span + 1));
        var from = fromHour.Start;
        var to = toHour.Start;
        if (random.Next(4) == 0)
        {
            from = from.AddSeconds(random.Next(3600));
            to = to.AddSeconds(random.Next(3600));
        }

        if (random.Next(5) == 0)
        {
            to = now;
        }

        if (to <= from)
        {
            to = from.AddSeconds(1);
        }

        var media = aggregation != "hubVisits";
        string? groupBy = media && random.Next(3) == 0 ? "mediaId" : null;
        Dictionary<string, string>? filters = media && random.Next(5) == 0
            ? new Dictionary<string, string> { ["mediaId"] = Media[random.Next(Media.Length)] }
            : null;
        var limit = random.Next(3) == 0 ? random.Next(1, 4) : 100;
        SeriesBucket? bucket = random.Next(4) switch
        {
            0 => SeriesBucket.Hour,
            1 => SeriesBucket.Day,
            _ => null,
        };
        var zone = bucket is null ? null : Zones[random.Next(Zones.Length)];
        return new QuerySpec(aggregation, Hubs[random.Next(Hubs.Length)], from, to, groupBy, filters, limit, zone, bucket);
    }

    private static Task<LambdaStats.Modules.View.Contracts.AggregationResult> AnswerAsync(LambdaCoreHarness harness, QuerySpec query) =>
        harness.QueryAsync(query.Aggregation, query.HubId, query.From, query.To, query.GroupBy, query.Filters, query.Limit, query.Zone, query.Bucket);

    /// <summary>Compares an answer with the brute force over every distinct event sent, which is what the store must hold.</summary>
    private static void Check(int seed, int scenario, int step, AggregationCatalog catalog, List<LambdaEvent> sent, QuerySpec query, LambdaStats.Modules.View.Contracts.AggregationResult answer)
    {
        if (query.Bucket is not null)
        {
            Interlocked.Increment(ref seriesQueries);
        }

        var expected = BruteForce.Answer(catalog.Get(query.Aggregation), sent.DistinctBy(e => e.Id), query.HubId, query.From, query.To, query.GroupBy, query.Filters, query.Limit, query.Zone, query.Bucket);
        var actual = BruteForce.Of(answer);
        if (expected != actual)
        {
            Assert.Fail($"Seed {seed}, scenario {scenario}, step {step}: {query}{Environment.NewLine}expected {expected}{Environment.NewLine}actual   {actual}{Environment.NewLine}watermark {answer.Frontier}");
        }
    }

    private static int ReadSetting(string name, int defaultValue) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : defaultValue;

    private sealed record QuerySpec(string Aggregation, string HubId, DateTimeOffset From, DateTimeOffset To, string? GroupBy, Dictionary<string, string>? Filters, int Limit, TimeZoneInfo? Zone, SeriesBucket? Bucket)
    {
        public override string ToString() =>
            $"{Aggregation} hub {HubId} [{From:O}, {To:O}) groupBy {GroupBy ?? "-"} filters {(Filters is null ? "-" : string.Join(",", Filters))} limit {Limit} bucket {Bucket?.ToString() ?? "-"} tz {Zone?.Id ?? "-"}";
    }

    private sealed class ScenarioCounters
    {
        public int Queries { get; set; }

        public int RacingQueries { get; set; }

        public int LateEvents { get; set; }

        public int Restarts { get; set; }

        public int Duplicates { get; set; }

        public int EventsDuringBatch { get; set; }

        public int Recomputes { get; set; }

        public override string ToString() =>
            $"{Queries} queries, {RacingQueries} racing a batch, {LateEvents} late events, {Duplicates} duplicate deliveries, {EventsDuringBatch} events during a batch, {Recomputes} recomputes under a query, {Restarts} restarts";
    }
}
