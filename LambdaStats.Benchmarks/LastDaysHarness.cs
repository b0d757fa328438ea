using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using DuckDB.NET.Data;
using LambdaStats.Benchmarks.Support;
using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Batch.Contracts;
using LambdaStats.Modules.Common;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.Speed;
using LambdaStats.Modules.View.Contracts;
using Mediator;
using Microsoft.Data.Sqlite;

namespace LambdaStats.Benchmarks;

/// <summary>
/// <c>last-days</c>: "last 30 days" of mediaConsultations for one hub, computed by the view layer,
/// by SQL over the SQLite event store, and by DuckDB over the same events, in the same run.
/// </summary>
/// <remarks>
/// The dataset (default 10,000,000 MediaOpened events of one hub over 10,000 media) is written
/// straight into the event store through <see cref="IEventStore.AppendAsync"/>, one hour after the
/// other from 30 days before today's midnight (UTC) to the current hour. The views are then built
/// by the real hourly and daily batch runs, sent through the mediator, and the speed layer is
/// rebuilt as at startup. The period queried is [midnight 30 days ago, now).
/// </remarks>
internal static class LastDaysHarness
{
    private const string Aggregation = "mediaConsultations";
    private const string Hub = "hub-last-days";

    public static async Task<int> RunAsync(Options options)
    {
        var parameters = new DatasetParameters(options.PositiveLong("events", 10_000_000), options.PositiveInt("media", 10_000), options.PositiveInt("days", 30));
        var directory = options.OptionalString("data-dir") is { } given ? Path.GetFullPath(given) : RepositoryPaths.CreateWorkDirectory("lambdastats-last-days", null);
        Directory.CreateDirectory(directory);
        Console.WriteLine($"# data directory: {directory}");

        await using var host = new ModuleHost(directory, TimeProvider.System);
        var dataset = await PrepareAsync(host, directory, parameters);

        var to = TruncateToSecond(DateTimeOffset.UtcNow);
        var from = dataset.FirstHour.Start;
        Console.WriteLine(FormattableString.Invariant($"period: [{from:O}, {to:O}), {parameters.Events:N0} events, {parameters.Media:N0} media"));
        var expected = await ExpectedAnswerAsync(host, from, to);
        PrintViewRowCounts(host, from);
        await PrintPrefixRebuildAsync(host, from, to);
        var viewIterations = options.PositiveInt("view-iterations", 100);
        var sqliteIterations = options.PositiveInt("sqlite-iterations", 3);
        var duckIterations = options.PositiveInt("duckdb-iterations", 20);

        var results = new List<(string Method, string Variant, Percentiles Latency)>();
        foreach (var grouped in new[] { false, true })
        {
            var variant = grouped ? "groupBy=mediaId&limit=10" : "totals only";
            results.Add(("view layer", variant, await MeasureViewLayerAsync(host, from, to, grouped, viewIterations, expected)));
        }

        results.Add(("view layer", "bucket=day (series)", await MeasureSeriesAsync(host, from, to, options.PositiveInt("series-iterations", 20), expected)));
        results.Add(("view store: daily rows only", "rows through the cache", await MeasureDailyReadAsync(host, from, viewIterations)));

        using (var sqlite = OpenEventsReadOnly(directory))
        {
            foreach (var grouped in new[] { false, true })
            {
                var variant = grouped ? "groupBy=mediaId&limit=10" : "totals only";
                results.Add(("SQLite event store (SQL)", variant, Measure(sqliteIterations, 1, () => QueryEvents(sqlite, from, to, grouped), expected, grouped)));
            }
        }

        if (!options.Flag("skip-duckdb"))
        {
            using var duck = await LoadDuckDbAsync(directory);
            foreach (var grouped in new[] { false, true })
            {
                var variant = grouped ? "groupBy=mediaId&limit=10" : "totals only";
                results.Add(("DuckDB in memory (SQL)", variant, Measure(duckIterations, 2, () => QueryEvents(duck, from, to, grouped), expected, grouped)));
            }
        }

        Console.WriteLine();
        Console.WriteLine($"{"method",-30} {"variant",-26} {"n",5} {"p50 ms",12} {"p99 ms",12}");
        foreach (var (method, variant, latency) in results)
        {
            Console.WriteLine(FormattableString.Invariant($"{method,-30} {variant,-26} {latency.Count,5} {latency.At(50),12:F3} {latency.At(99),12:F3}"));
        }

        foreach (var variant in new[] { "totals only", "groupBy=mediaId&limit=10" })
        {
            var view = results.First(r => r.Method == "view layer" && r.Variant == variant).Latency.At(50);
            foreach (var other in results.Where(r => r.Variant == variant && r.Method != "view layer" && !r.Method.StartsWith("view store", StringComparison.Ordinal)))
            {
                var ratio = other.Latency.At(50) / view;
                var comparison = ratio >= 1
                    ? FormattableString.Invariant($"{ratio:F1}x faster than")
                    : FormattableString.Invariant($"{1 / ratio:F1}x slower than");
                Console.WriteLine($"{variant}: the view layer's p50 is {comparison} {other.Method}'s");
            }
        }

        return 0;
    }

    private static async Task<Dataset> PrepareAsync(ModuleHost host, string directory, DatasetParameters parameters)
    {
        var markerPath = Path.Combine(directory, "dataset.json");
        Dataset dataset;
        if (File.Exists(markerPath))
        {
            dataset = JsonSerializer.Deserialize<Dataset>(await File.ReadAllTextAsync(markerPath))!;
            if (dataset.Parameters != parameters)
            {
                throw new InvalidOperationException($"The data directory contains a dataset of {dataset.Parameters}, but the options request {parameters}. Pass another --data-dir or the same dataset options.");
            }

            Console.WriteLine(FormattableString.Invariant($"reusing the dataset written at {dataset.WrittenAt:O}"));
        }
        else
        {
            var now = DateTimeOffset.UtcNow;
            var firstHour = new UtcDay(UtcDay.Containing(now).Index - parameters.Days).FirstHour;
            var endHour = UtcHour.Containing(now);
            var clock = Stopwatch.StartNew();
            await WriteEventsAsync(host.Get<IEventStore>(), parameters, firstHour, endHour);
            Console.WriteLine(FormattableString.Invariant($"appended {parameters.Events:N0} events to the event store in {clock.Elapsed.TotalSeconds:F0} s"));
            dataset = new Dataset(parameters, now, firstHour.Index);
        }

        var mediator = host.Get<IMediator>();
        var batchClock = Stopwatch.StartNew();
        var hourly = await mediator.Send(new RunHourlyBatch());
        var hourlySeconds = batchClock.Elapsed.TotalSeconds;
        batchClock.Restart();
        var daily = await mediator.Send(new RunDailyBatch());
        var failed = hourly.Aggregations.Concat(daily.Aggregations).Where(a => a.Error is not null).ToList();
        if (failed.Count > 0)
        {
            throw new InvalidOperationException($"The batch failed: {string.Join("; ", failed.Select(f => $"{f.Aggregation}: {f.Error}"))}");
        }

        Console.WriteLine(FormattableString.Invariant(
            $"hourly batch: {hourly.Aggregations.Sum(a => a.BucketsWritten)} hours in {hourlySeconds:F0} s; daily batch: {daily.Aggregations.Sum(a => a.BucketsWritten)} days in {batchClock.Elapsed.TotalSeconds:F0} s"));

        await host.Get<SpeedRebuilder>().RebuildAsync(CancellationToken.None);
        await File.WriteAllTextAsync(markerPath, JsonSerializer.Serialize(dataset));
        return dataset;
    }

    private static async Task WriteEventsAsync(IEventStore store, DatasetParameters parameters, UtcHour firstHour, UtcHour endHour)
    {
        var random = new Random(2026);
        var media = Enumerable.Range(0, parameters.Media).Select(i => $"media-{i:D6}").ToArray();
        var hours = endHour.Index - firstHour.Index;
        var written = 0L;
        var chunk = new List<LambdaEvent>(10_000);
        for (var h = 0L; h < hours; h++)
        {
            var hour = firstHour.AddHours(h);
            var inHour = (parameters.Events * (h + 1) / hours) - written;
            for (var i = 0L; i < inHour; i++)
            {
                // Skewed popularity: the square of a uniform draw favours low media numbers, so
                // the top 10 is well separated.
                var u = random.NextDouble();
                var medium = media[(int)(u * u * media.Length)];
                chunk.Add(new LambdaEvent
                {
                    Id = $"ld-{written + i:D10}",
                    Type = EventType.MediaOpened,
                    OccurredAt = hour.Start.AddTicks(TimeSpan.TicksPerHour / inHour * i),
                    HubId = Hub,
                    MediaId = medium,
                });
                if (chunk.Count == chunk.Capacity)
                {
                    await store.AppendAsync(chunk, CancellationToken.None);
                    chunk.Clear();
                }
            }

            written += inHour;
        }

        if (chunk.Count > 0)
        {
            await store.AppendAsync(chunk, CancellationToken.None);
        }
    }

    private static async Task<Answer> ExpectedAnswerAsync(ModuleHost host, DateTimeOffset from, DateTimeOffset to)
    {
        // The first query after the start reads every bucket from SQLite into the view cache.
        var cold = Stopwatch.StartNew();
        var result = await QueryViewLayerAsync(host.Get<IAggregationQueries>(), from, to, grouped: true);
        Console.WriteLine(FormattableString.Invariant($"first view-layer query after the start (cache empty): {cold.Elapsed.TotalMilliseconds:F1} ms"));
        Console.WriteLine(FormattableString.Invariant($"view-layer answer: consultations {result.Consultations:N0}, consulted {result.Consulted:N0}, top: {string.Join(", ", result.Top.Take(3).Select(t => $"{t.Media}={t.Count}"))}, ..."));
        return result;
    }

    private static async Task<Percentiles> MeasureViewLayerAsync(ModuleHost host, DateTimeOffset from, DateTimeOffset to, bool grouped, int iterations, Answer expected)
    {
        var queries = host.Get<IAggregationQueries>();
        for (var i = 0; i < 3; i++)
        {
            await QueryViewLayerAsync(queries, from, to, grouped);
        }

        var samples = new List<double>(iterations);
        for (var i = 0; i < iterations; i++)
        {
            var clock = Stopwatch.StartNew();
            var answer = await QueryViewLayerAsync(queries, from, to, grouped);
            samples.Add(clock.Elapsed.TotalMilliseconds);
            Check(answer, expected, grouped, "view layer");
        }

        return new Percentiles(samples);
    }

    /// <summary>
    /// Times a query whose buckets are cached but whose merged prefix is not: the period one day
    /// shorter. The first query after an hourly commit costs about the same, since a commit drops the
    /// prefixes of its view.
    /// </summary>
    private static async Task PrintPrefixRebuildAsync(ModuleHost host, DateTimeOffset from, DateTimeOffset to)
    {
        var queries = host.Get<IAggregationQueries>();
        var shorter = Stopwatch.StartNew();
        await QueryViewLayerAsync(queries, from.AddDays(1), to, grouped: true);
        Console.WriteLine(FormattableString.Invariant($"query of the period one day shorter (buckets cached, prefix built): {shorter.Elapsed.TotalMilliseconds:F1} ms"));
    }

    /// <summary>Times the same period with a daily series: one point per UTC day, totals of every point, and the top 10.</summary>
    private static async Task<Percentiles> MeasureSeriesAsync(ModuleHost host, DateTimeOffset from, DateTimeOffset to, int iterations, Answer expected)
    {
        var queries = host.Get<IAggregationQueries>();
        var query = new AggregationQuery(Aggregation, Hub, new Dictionary<string, string>(), from, to, "mediaId", 10, null, SeriesBucket.Day);
        var samples = new List<double>(iterations);
        for (var i = 0; i < iterations + 1; i++)
        {
            var clock = Stopwatch.StartNew();
            var result = await queries.QueryAsync(query, CancellationToken.None);
            var elapsed = clock.Elapsed.TotalMilliseconds;
            var pointSum = result.Series.Sum(point => ((CountAccumulator)point.Values.Outputs[0]).Value);
            if (pointSum != expected.Consultations || ((CountAccumulator)result.Totals.Outputs[0]).Value != expected.Consultations)
            {
                throw new InvalidOperationException($"The daily series adds up to {pointSum:N0} consultations, the period to {expected.Consultations:N0}.");
            }

            if (i >= 1)
            {
                samples.Add(elapsed);
            }
        }

        return new Percentiles(samples);
    }

    /// <summary>Times <see cref="IViewStore.ReadDaysAsync"/> alone over the whole days of the period, through the view cache: rows rebuilt from cached columns, or read from SQLite and decoded on a miss.</summary>
    private static async Task<Percentiles> MeasureDailyReadAsync(ModuleHost host, DateTimeOffset from, int iterations)
    {
        var views = host.Get<IViewStore>();
        var definition = host.Get<AggregationCatalog>().Get(Aggregation);
        var frontier = await views.GetFrontierAsync(definition.ViewId, CancellationToken.None);
        var filter = new KeyFilter(Hub);
        var firstDay = new UtcDay(UtcHour.Containing(from).Index / 24);
        var samples = new List<double>(iterations);
        for (var i = 0; i < iterations + 3; i++)
        {
            var clock = Stopwatch.StartNew();
            var rows = await views.ReadDaysAsync(definition, filter, firstDay, frontier.DailyWatermark, CancellationToken.None);
            if (i >= 3)
            {
                samples.Add(clock.Elapsed.TotalMilliseconds);
            }

            GC.KeepAlive(rows);
        }

        return new Percentiles(samples);
    }

    private static async Task<Answer> QueryViewLayerAsync(IAggregationQueries queries, DateTimeOffset from, DateTimeOffset to, bool grouped)
    {
        var query = new AggregationQuery(Aggregation, Hub, new Dictionary<string, string>(), from, to, grouped ? "mediaId" : null, grouped ? 10 : 100);
        var result = await queries.QueryAsync(query, CancellationToken.None);
        var consultations = ((CountAccumulator)result.Totals.Outputs[0]).Value;
        var consulted = ((CountAccumulator)result.Totals.Outputs[1]).Value;
        var top = result.Groups.Select(g => (g.Value, ((CountAccumulator)g.Values.Outputs[0]).Value)).ToList();
        return new Answer(consultations, consulted, top);
    }

    private static Percentiles Measure(int iterations, int warmup, Func<Answer> query, Answer expected, bool grouped)
    {
        var samples = new List<double>(iterations);
        for (var i = 0; i < warmup + iterations; i++)
        {
            var clock = Stopwatch.StartNew();
            var answer = query();
            var elapsed = clock.Elapsed.TotalMilliseconds;
            Check(answer, expected, grouped, "SQL");
            if (i >= warmup)
            {
                samples.Add(elapsed);
            }
        }

        return new Percentiles(samples);
    }

    private static void Check(Answer actual, Answer expected, bool grouped, string method)
    {
        var same = actual.Consultations == expected.Consultations
            && actual.Consulted == expected.Consulted
            && (!grouped || actual.Top.SequenceEqual(expected.Top));
        if (!same)
        {
            throw new InvalidOperationException(
                $"{method} returned a different answer: consultations {actual.Consultations} vs {expected.Consultations}, consulted {actual.Consulted} vs {expected.Consulted}, "
                + $"top {string.Join(",", actual.Top.Take(3))} vs {string.Join(",", expected.Top.Take(3))}.");
        }
    }

    /// <summary>
    /// Runs the same aggregation as SQL over an events table with the columns of <c>events.db</c>,
    /// on SQLite or DuckDB. Values are inlined: they are numbers and a constant hub id.
    /// </summary>
    private static Answer QueryEvents(System.Data.Common.DbConnection connection, DateTimeOffset from, DateTimeOffset to, bool grouped)
    {
        var fromTicks = from.UtcTicks;
        var toTicks = to.UtcTicks;
        var where = FormattableString.Invariant(
            $"type = {(int)EventType.MediaOpened} AND hub_id = '{Hub}' AND hour >= {fromTicks / TimeSpan.TicksPerHour} AND hour <= {(toTicks - 1) / TimeSpan.TicksPerHour} AND occurred_ticks >= {fromTicks} AND occurred_ticks < {toTicks}");
        using var command = connection.CreateCommand();
        if (!grouped)
        {
            command.CommandText = $"SELECT COUNT(*), COUNT(DISTINCT media_id) FROM events WHERE {where};";
            using var totals = command.ExecuteReader();
            totals.Read();
            return new Answer(ToInt64(totals.GetValue(0)), ToInt64(totals.GetValue(1)), []);
        }

        command.CommandText = $"""
            WITH g AS (SELECT media_id, COUNT(*) AS c FROM events WHERE {where} GROUP BY media_id)
            SELECT media_id, c, SUM(c) OVER (), COUNT(*) OVER () FROM g ORDER BY c DESC, media_id LIMIT 10;
            """;
        using var reader = command.ExecuteReader();
        var top = new List<(string, long)>();
        long consultations = 0;
        long consulted = 0;
        while (reader.Read())
        {
            top.Add((reader.GetString(0), ToInt64(reader.GetValue(1))));
            consultations = ToInt64(reader.GetValue(2));
            consulted = ToInt64(reader.GetValue(3));
        }

        return new Answer(consultations, consulted, top);
    }

    /// <summary>Converts an integer column; DuckDB returns SUM over BIGINT as HUGEINT, read as <see cref="System.Numerics.BigInteger"/>.</summary>
    private static long ToInt64(object value) =>
        value is System.Numerics.BigInteger big ? (long)big : Convert.ToInt64(value, CultureInfo.InvariantCulture);

    private static SqliteConnection OpenEventsReadOnly(string directory)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(directory, "events.db"),
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
        }.ToString());
        connection.Open();
        return connection;
    }

    /// <summary>Copies the MediaOpened events of events.db into an in-memory DuckDB table with the same columns.</summary>
    private static async Task<DuckDBConnection> LoadDuckDbAsync(string directory)
    {
        var clock = Stopwatch.StartNew();
        var duck = new DuckDBConnection("Data Source=:memory:");
        await duck.OpenAsync();
        using (var create = duck.CreateCommand())
        {
            create.CommandText = "CREATE TABLE events (type INTEGER NOT NULL, hour BIGINT NOT NULL, occurred_ticks BIGINT NOT NULL, hub_id VARCHAR NOT NULL, media_id VARCHAR);";
            create.ExecuteNonQuery();
        }

        long rows = 0;
        using (var sqlite = OpenEventsReadOnly(directory))
        using (var read = sqlite.CreateCommand())
        using (var appender = duck.CreateAppender("events"))
        {
            read.CommandText = "SELECT type, hour, occurred_ticks, hub_id, media_id FROM events;";
            using var reader = read.ExecuteReader();
            while (reader.Read())
            {
                appender.CreateRow()
                    .AppendValue(reader.GetInt32(0))
                    .AppendValue(reader.GetInt64(1))
                    .AppendValue(reader.GetInt64(2))
                    .AppendValue(reader.GetString(3))
                    .AppendValue(reader.IsDBNull(4) ? null : reader.GetString(4))
                    .EndRow();
                rows++;
            }
        }

        Console.WriteLine(FormattableString.Invariant($"DuckDB: loaded {rows:N0} events into an in-memory table in {clock.Elapsed.TotalSeconds:F0} s"));
        return duck;
    }

    /// <summary>Prints how many view rows the period spans, which is what the view layer merges.</summary>
    private static void PrintViewRowCounts(ModuleHost host, DateTimeOffset from)
    {
        var views = host.Get<IViewStore>();
        var definition = host.Get<AggregationCatalog>().Get(Aggregation);
        var frontier = views.GetFrontierAsync(definition.ViewId, CancellationToken.None).GetAwaiter().GetResult();
        var filter = new KeyFilter(Hub);
        var firstDay = new UtcDay(UtcHour.Containing(from).Index / 24);
        var daily = views.ReadDaysAsync(definition, filter, firstDay, frontier.DailyWatermark, CancellationToken.None).GetAwaiter().GetResult().Count;
        var hourly = views.ReadHoursAsync(definition, filter, frontier.DailyWatermark.FirstHour, frontier.Watermark, CancellationToken.None).GetAwaiter().GetResult().Count;
        Console.WriteLine(FormattableString.Invariant(
            $"rows the view layer reads: {daily:N0} daily rows (days before {frontier.DailyWatermark.Start:O}) and {hourly:N0} hourly rows (hours up to {frontier.Watermark.Start:O})"));
    }

    private static DateTimeOffset TruncateToSecond(DateTimeOffset instant) =>
        new(instant.UtcTicks - instant.UtcTicks % TimeSpan.TicksPerSecond, TimeSpan.Zero);

    private sealed record DatasetParameters(long Events, int Media, int Days);

    private sealed record Dataset(DatasetParameters Parameters, DateTimeOffset WrittenAt, long FirstHourIndex)
    {
        [System.Text.Json.Serialization.JsonIgnore]
        public UtcHour FirstHour => new(FirstHourIndex);
    }

    private sealed record Answer(long Consultations, long Consulted, List<(string Media, long Count)> Top);
}
