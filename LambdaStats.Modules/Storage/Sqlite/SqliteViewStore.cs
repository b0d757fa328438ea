using System.Text;
using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Common;
using LambdaStats.Modules.View.Contracts;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LambdaStats.Modules.Storage.Sqlite;

/// <summary>
/// <see cref="IViewStore"/> on a SQLite file (<c>views.db</c>). Each row stores its key in
/// k0..k3, with the hub in k0 and the empty string in positions past the aggregation's key
/// length, and its state as <see cref="AggregateRow.SerializeState"/> wrote it.
/// </summary>
/// <remarks>
/// <see cref="CommitAsync"/> writes all rows and the frontier in one transaction, so a crash
/// leaves either the old or the new state. The writer runs with <c>synchronous=FULL</c>, so a
/// commit also survives an operating system crash or power failure once it returns.
/// </remarks>
internal sealed class SqliteViewStore : IViewStore, IDisposable
{
    private const int SchemaVersion = 1;

    private static readonly string[] KeyColumns = ["k0", "k1", "k2", "k3"];

    private static readonly BucketTable HourlyRows = new("hourly_rows", "hour", "hours");

    private static readonly BucketTable DailyRows = new("daily_rows", "day", "days");

    // The primary key (aggregation, bucket, k0..k3) serves the bucket deletes and the reads of a
    // bucket range. The (aggregation, k0, bucket) indexes serve the reads of one hub.
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS hourly_rows (
            aggregation TEXT NOT NULL,
            hour INTEGER NOT NULL,
            k0 TEXT NOT NULL,
            k1 TEXT NOT NULL,
            k2 TEXT NOT NULL,
            k3 TEXT NOT NULL,
            state BLOB NOT NULL,
            PRIMARY KEY (aggregation, hour, k0, k1, k2, k3)
        ) STRICT;
        CREATE INDEX IF NOT EXISTS hourly_rows_hub ON hourly_rows (aggregation, k0, hour);
        CREATE TABLE IF NOT EXISTS daily_rows (
            aggregation TEXT NOT NULL,
            day INTEGER NOT NULL,
            k0 TEXT NOT NULL,
            k1 TEXT NOT NULL,
            k2 TEXT NOT NULL,
            k3 TEXT NOT NULL,
            state BLOB NOT NULL,
            PRIMARY KEY (aggregation, day, k0, k1, k2, k3)
        ) STRICT;
        CREATE INDEX IF NOT EXISTS daily_rows_hub ON daily_rows (aggregation, k0, day);
        CREATE TABLE IF NOT EXISTS frontiers (
            aggregation TEXT PRIMARY KEY,
            watermark_hour INTEGER NOT NULL,
            sequence INTEGER NOT NULL,
            daily_watermark_day INTEGER NOT NULL
        ) STRICT;
        """;

    private const string UpsertFrontierSql = """
        INSERT INTO frontiers (aggregation, watermark_hour, sequence, daily_watermark_day)
        VALUES ($aggregation, $watermark_hour, $sequence, $daily_watermark_day)
        ON CONFLICT (aggregation) DO UPDATE SET
            watermark_hour = excluded.watermark_hour,
            sequence = excluded.sequence,
            daily_watermark_day = excluded.daily_watermark_day;
        """;

    // Finds each day with hourly rows by one seek per day (MIN over the primary key, starting
    // at the next day's first hour), so the cost grows with the number of days, not of rows.
    internal const string DaysWithHourlyRowsSql = """
        WITH RECURSIVE days (day) AS (
            SELECT (SELECT MIN(hour) FROM hourly_rows WHERE aggregation = $aggregation AND hour >= $from_hour AND hour < $to_hour) / 24
            UNION ALL
            SELECT (SELECT MIN(r.hour) FROM hourly_rows r WHERE r.aggregation = $aggregation AND r.hour >= (days.day + 1) * 24 AND r.hour < $to_hour) / 24
            FROM days
            WHERE days.day IS NOT NULL
        )
        SELECT day FROM days WHERE day IS NOT NULL ORDER BY day;
        """;

    private const string ReadDayHoursSql = """
        SELECT hour, k0, k1, k2, k3, state
        FROM hourly_rows
        WHERE aggregation = $aggregation AND hour >= $from_hour AND hour < $to_hour
        ORDER BY hour;
        """;

    /// <summary>Index of the day after the day of <see cref="UtcHour.MaxValue"/>.</summary>
    private static readonly long DayIndexLimit = UtcHour.MaxValue.Index / 24 + 1;

    private readonly SqliteDatabase database;
    private readonly ILogger<SqliteViewStore> logger;

    public SqliteViewStore(IOptions<SqliteStorageOptions> options, ILogger<SqliteViewStore> logger)
    {
        this.logger = logger;
        database = SqliteDatabase.Open(
            options.Value,
            SqliteStorageOptions.ViewsFileName,
            "view store",
            SchemaVersion,
            Schema,
            SqliteSynchronous.Full,
            logger);
    }

    public string FilePath => database.FilePath;

    public Task<BatchFrontier> GetFrontierAsync(string aggregation, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(aggregation);
        cancellationToken.ThrowIfCancellationRequested();

        using var connection = database.OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT watermark_hour, sequence, daily_watermark_day FROM frontiers WHERE aggregation = $aggregation;";
        command.Parameters.AddWithValue("$aggregation", aggregation);
        using var reader = command.ExecuteReader();
        var frontier = reader.Read()
            ? new BatchFrontier(new UtcHour(reader.GetInt64(0)), reader.GetInt64(1), new UtcDay(reader.GetInt64(2)))
            : BatchFrontier.Initial;
        return Task.FromResult(frontier);
    }

    public async Task CommitAsync(
        AggregationDefinition aggregation,
        IReadOnlyList<BucketRows<UtcHour>> hours,
        IReadOnlyList<BucketRows<UtcDay>> days,
        BatchFrontier frontier,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(aggregation);
        ArgumentNullException.ThrowIfNull(hours);
        ArgumentNullException.ThrowIfNull(days);
        ArgumentNullException.ThrowIfNull(frontier);

        await database.WriteLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var rowCount = Commit(aggregation, hours, days, frontier, cancellationToken);
            SqliteStorageLog.ViewsCommitted(logger, aggregation.Name, hours.Count, days.Count, rowCount);
        }
        finally
        {
            database.WriteLock.Release();
        }
    }

    public Task<IReadOnlyList<KeyedRow>> ReadHoursAsync(AggregationDefinition aggregation, KeyFilter filter, UtcHour from, UtcHour to, CancellationToken cancellationToken) =>
        Task.FromResult(ReadRows(HourlyRows, aggregation, filter, from.Index, to.Index, cancellationToken));

    public Task<IReadOnlyList<KeyedRow>> ReadDaysAsync(AggregationDefinition aggregation, KeyFilter filter, UtcDay from, UtcDay to, CancellationToken cancellationToken) =>
        Task.FromResult(ReadRows(DailyRows, aggregation, filter, from.Index, to.Index, cancellationToken));

    public Task<IReadOnlyList<UtcDay>> GetDaysWithHourlyRowsAsync(AggregationDefinition aggregation, UtcDay from, UtcDay to, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(aggregation);
        cancellationToken.ThrowIfCancellationRequested();
        if (to <= from)
        {
            return Task.FromResult<IReadOnlyList<UtcDay>>([]);
        }

        using var connection = database.OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = DaysWithHourlyRowsSql;
        command.Parameters.AddWithValue("$aggregation", aggregation.ViewId);
        command.Parameters.AddWithValue("$from_hour", FirstHourIndex(from.Index));
        command.Parameters.AddWithValue("$to_hour", FirstHourIndex(to.Index));

        var result = new List<UtcDay>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            result.Add(new UtcDay(reader.GetInt64(0)));
        }

        return Task.FromResult<IReadOnlyList<UtcDay>>(result);
    }

    public Task<IReadOnlyList<BucketRows<UtcHour>>> ReadDayHoursAsync(AggregationDefinition aggregation, UtcDay day, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(aggregation);
        cancellationToken.ThrowIfCancellationRequested();

        using var connection = database.OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = ReadDayHoursSql;
        command.Parameters.AddWithValue("$aggregation", aggregation.ViewId);
        command.Parameters.AddWithValue("$from_hour", FirstHourIndex(day.Index));
        command.Parameters.AddWithValue("$to_hour", FirstHourIndex(Math.Min(day.Index, DayIndexLimit) + 1));

        var result = new List<BucketRows<UtcHour>>();
        Dictionary<AggregationKey, AggregateRow>? rows = null;
        long currentHour = -1;
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var hour = reader.GetInt64(0);
            if (rows is null || hour != currentHour)
            {
                rows = new Dictionary<AggregationKey, AggregateRow>();
                currentHour = hour;
                result.Add(new BucketRows<UtcHour>(new UtcHour(hour), rows));
            }

            rows.Add(ReadKey(reader, 1, aggregation.Key.Count), ReadState(reader, 5, aggregation));
        }

        return Task.FromResult<IReadOnlyList<BucketRows<UtcHour>>>(result);
    }

    public void Dispose() => database.Dispose();

    /// <summary>Returns the index of the first hour of day <paramref name="dayIndex"/>, capped just past the last valid hour.</summary>
    private static long FirstHourIndex(long dayIndex) => Math.Min(dayIndex, DayIndexLimit) * 24;

    private int Commit(
        AggregationDefinition aggregation,
        IReadOnlyList<BucketRows<UtcHour>> hours,
        IReadOnlyList<BucketRows<UtcDay>> days,
        BatchFrontier frontier,
        CancellationToken cancellationToken)
    {
        var outputTypes = aggregation.Outputs.Select(output => output.CreateAccumulator().GetType()).ToArray();
        var connection = database.Writer;

        // Disposing the transaction without Commit rolls back every bucket written so far, so
        // an exception or a cancellation part way through leaves the previous state.
        using var transaction = connection.BeginTransaction();
        var rowCount = 0;
        using (var writer = new BucketWriter(connection, transaction, HourlyRows, aggregation, outputTypes))
        {
            foreach (var bucket in hours)
            {
                cancellationToken.ThrowIfCancellationRequested();
                rowCount += writer.Replace(bucket.Bucket.Index, bucket.Rows);
            }
        }

        using (var writer = new BucketWriter(connection, transaction, DailyRows, aggregation, outputTypes))
        {
            foreach (var bucket in days)
            {
                cancellationToken.ThrowIfCancellationRequested();
                rowCount += writer.Replace(bucket.Bucket.Index, bucket.Rows);
            }
        }

        using (var upsert = connection.CreateCommand())
        {
            upsert.Transaction = transaction;
            upsert.CommandText = UpsertFrontierSql;
            upsert.Parameters.AddWithValue("$aggregation", aggregation.ViewId);
            upsert.Parameters.AddWithValue("$watermark_hour", frontier.Watermark.Index);
            upsert.Parameters.AddWithValue("$sequence", frontier.Sequence);
            upsert.Parameters.AddWithValue("$daily_watermark_day", frontier.DailyWatermark.Index);
            upsert.ExecuteNonQuery();
        }

        cancellationToken.ThrowIfCancellationRequested();
        transaction.Commit();
        return rowCount;
    }

    private IReadOnlyList<KeyedRow> ReadRows(BucketTable table, AggregationDefinition aggregation, KeyFilter filter, long from, long to, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(aggregation);
        ArgumentNullException.ThrowIfNull(filter);
        cancellationToken.ThrowIfCancellationRequested();
        if (to <= from)
        {
            return [];
        }

        using var connection = database.OpenReader();
        using var command = connection.CreateCommand();
        var sql = new StringBuilder($"SELECT k0, k1, k2, k3, state FROM {table.Name} WHERE aggregation = $aggregation AND k0 = $hub AND {table.BucketColumn} >= $from AND {table.BucketColumn} < $to");
        command.Parameters.AddWithValue("$aggregation", aggregation.ViewId);
        command.Parameters.AddWithValue("$hub", filter.HubId);
        command.Parameters.AddWithValue("$from", from);
        command.Parameters.AddWithValue("$to", to);
        for (var i = 0; i < filter.Others.Count; i++)
        {
            var condition = filter.Others[i];
            if (condition.Index < 0 || condition.Index >= aggregation.Key.Count)
            {
                throw new ArgumentOutOfRangeException(
                    nameof(filter),
                    condition.Index,
                    $"The filter names key position {condition.Index}, but aggregation '{aggregation.Name}' has {aggregation.Key.Count} key fields.");
            }

            // The column name comes from a fixed list, and the value is a parameter.
            sql.Append($" AND {KeyColumns[condition.Index]} = $v{i}");
            command.Parameters.AddWithValue($"$v{i}", condition.Value);
        }

        command.CommandText = sql.ToString();
        var result = new List<KeyedRow>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            result.Add(new KeyedRow(ReadKey(reader, 0, aggregation.Key.Count), ReadState(reader, 4, aggregation)));
        }

        return result;
    }

    private static AggregationKey ReadKey(SqliteDataReader reader, int firstOrdinal, int keyCount)
    {
        var values = new string[keyCount];
        for (var i = 0; i < keyCount; i++)
        {
            values[i] = reader.GetString(firstOrdinal + i);
        }

        return new AggregationKey(values);
    }

    private static AggregateRow ReadState(SqliteDataReader reader, int ordinal, AggregationDefinition aggregation) =>
        AggregateRow.DeserializeState(aggregation, reader.GetFieldValue<byte[]>(ordinal));

    /// <summary>A rows table, its bucket column, and the parameter of <see cref="CommitAsync"/> that fills it.</summary>
    private sealed record BucketTable(string Name, string BucketColumn, string ParameterName);

    /// <summary>Replaces the rows of one bucket at a time, with two prepared statements.</summary>
    private sealed class BucketWriter : IDisposable
    {
        private readonly AggregationDefinition aggregation;
        private readonly Type[] outputTypes;
        private readonly string parameterName;
        private readonly SqliteCommand delete;
        private readonly SqliteCommand insert;
        private readonly SqliteParameter deleteBucket;
        private readonly SqliteParameter insertBucket;
        private readonly SqliteParameter[] keys;
        private readonly SqliteParameter state;

        public BucketWriter(SqliteConnection connection, SqliteTransaction transaction, BucketTable table, AggregationDefinition aggregation, Type[] outputTypes)
        {
            this.aggregation = aggregation;
            this.outputTypes = outputTypes;
            parameterName = table.ParameterName;

            delete = connection.CreateCommand();
            delete.Transaction = transaction;
            delete.CommandText = $"DELETE FROM {table.Name} WHERE aggregation = $aggregation AND {table.BucketColumn} = $bucket;";
            delete.Parameters.AddWithValue("$aggregation", aggregation.ViewId);
            deleteBucket = delete.Parameters.Add("$bucket", SqliteType.Integer);

            insert = connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = $"INSERT INTO {table.Name} (aggregation, {table.BucketColumn}, k0, k1, k2, k3, state) VALUES ($aggregation, $bucket, $k0, $k1, $k2, $k3, $state);";
            insert.Parameters.AddWithValue("$aggregation", aggregation.ViewId);
            insertBucket = insert.Parameters.Add("$bucket", SqliteType.Integer);
            keys = KeyColumns.Select(column => insert.Parameters.Add("$" + column, SqliteType.Text)).ToArray();
            state = insert.Parameters.Add("$state", SqliteType.Blob);
        }

        /// <summary>Deletes the bucket's rows, inserts <paramref name="rows"/> and returns how many it inserted.</summary>
        public int Replace(long bucket, IReadOnlyDictionary<AggregationKey, AggregateRow> rows)
        {
            deleteBucket.Value = bucket;
            delete.ExecuteNonQuery();

            insertBucket.Value = bucket;
            foreach (var (key, row) in rows)
            {
                Validate(bucket, key, row);
                for (var i = 0; i < keys.Length; i++)
                {
                    keys[i].Value = i < key.Count ? key[i] : string.Empty;
                }

                state.Value = row.SerializeState();
                insert.ExecuteNonQuery();
            }

            return rows.Count;
        }

        public void Dispose()
        {
            delete.Dispose();
            insert.Dispose();
        }

        private void Validate(long bucket, AggregationKey key, AggregateRow row)
        {
            if (key.Count != aggregation.Key.Count)
            {
                throw new ArgumentException(
                    $"A row of aggregation '{aggregation.Name}' in bucket {bucket} has a key of {key.Count} values, but the aggregation key has {aggregation.Key.Count} fields.",
                    parameterName);
            }

            if (row.Outputs.Count != outputTypes.Length)
            {
                throw new ArgumentException(
                    $"The row with key '{key}' of aggregation '{aggregation.Name}' in bucket {bucket} has {row.Outputs.Count} outputs, but the aggregation has {outputTypes.Length}.",
                    parameterName);
            }

            for (var i = 0; i < outputTypes.Length; i++)
            {
                if (row.Outputs[i].GetType() != outputTypes[i])
                {
                    throw new ArgumentException(
                        $"Output {i} of the row with key '{key}' of aggregation '{aggregation.Name}' in bucket {bucket} is a {row.Outputs[i].GetType().Name}, but the aggregation expects a {outputTypes[i].Name}.",
                        parameterName);
                }
            }
        }
    }
}
