using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Common;
using LambdaStats.Modules.View.Contracts;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LambdaStats.Modules.Storage.Sqlite;

/// <summary>
/// <see cref="IViewStore"/> on a SQLite file (<c>views.db</c>). Each table row holds one hub of one
/// bucket of one aggregation: the hub in <c>hub</c>, and every key of that hub with its state in
/// <c>block</c>, in the binary form of <see cref="ViewBlockCodec"/>. A bucket replaced with no key
/// of a hub has no row for that hub.
/// </summary>
/// <remarks>
/// <see cref="CommitAsync"/> writes all blocks and the frontier in one transaction, so a crash
/// leaves either the old or the new state. The writer runs with <c>synchronous=FULL</c>, so a
/// commit also survives an operating system crash or power failure once it returns.
/// Schema version 1 stored one row per key with a JSON state. Views are derived data, so opening
/// such a file drops its views and frontiers, and every aggregation is backfilled from the events.
/// </remarks>
internal sealed partial class SqliteViewStore : IViewStore, IDisposable
{
    private const int SchemaVersion = 2;

    /// <summary>Strings kept by the pool of one read: enough for the media of a large hub.</summary>
    private const int PooledStringsPerRead = 100_000;

    private static readonly BucketTable HourlyBlocks = new("hourly_blocks", "hour", "hours");

    private static readonly BucketTable DailyBlocks = new("daily_blocks", "day", "days");

    // The primary key (aggregation, bucket, hub) serves the bucket deletes and the reads of a
    // bucket range. The (aggregation, hub, bucket) indexes serve the reads of one hub.
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS hourly_blocks (
            aggregation TEXT NOT NULL,
            hour INTEGER NOT NULL,
            hub TEXT NOT NULL,
            key_count INTEGER NOT NULL,
            block BLOB NOT NULL,
            PRIMARY KEY (aggregation, hour, hub)
        ) STRICT;
        CREATE INDEX IF NOT EXISTS hourly_blocks_hub ON hourly_blocks (aggregation, hub, hour);
        CREATE TABLE IF NOT EXISTS daily_blocks (
            aggregation TEXT NOT NULL,
            day INTEGER NOT NULL,
            hub TEXT NOT NULL,
            key_count INTEGER NOT NULL,
            block BLOB NOT NULL,
            PRIMARY KEY (aggregation, day, hub)
        ) STRICT;
        CREATE INDEX IF NOT EXISTS daily_blocks_hub ON daily_blocks (aggregation, hub, day);
        CREATE TABLE IF NOT EXISTS frontiers (
            aggregation TEXT PRIMARY KEY,
            watermark_hour INTEGER NOT NULL,
            sequence INTEGER NOT NULL,
            daily_watermark_day INTEGER NOT NULL
        ) STRICT;
        """;

    // Schema version 1: one row per key. Dropping the tables drops their indexes.
    private const string DropVersion1Sql = """
        DROP TABLE IF EXISTS hourly_rows;
        DROP TABLE IF EXISTS daily_rows;
        DELETE FROM frontiers;
        """;

    private const string UpsertFrontierSql = """
        INSERT INTO frontiers (aggregation, watermark_hour, sequence, daily_watermark_day)
        VALUES (?1, ?2, ?3, ?4)
        ON CONFLICT (aggregation) DO UPDATE SET
            watermark_hour = excluded.watermark_hour,
            sequence = excluded.sequence,
            daily_watermark_day = excluded.daily_watermark_day;
        """;

    // Finds each day with hourly rows by one seek per day (MIN over the primary key, starting
    // at the next day's first hour), so the cost grows with the number of days, not of rows.
    // Parameters: ?1 aggregation, ?2 first hour, ?3 hour after the last.
    internal const string DaysWithHourlyRowsSql = """
        WITH RECURSIVE days (day) AS (
            SELECT (SELECT MIN(hour) FROM hourly_blocks WHERE aggregation = ?1 AND hour >= ?2 AND hour < ?3) / 24
            UNION ALL
            SELECT (SELECT MIN(b.hour) FROM hourly_blocks b WHERE b.aggregation = ?1 AND b.hour >= (days.day + 1) * 24 AND b.hour < ?3) / 24
            FROM days
            WHERE days.day IS NOT NULL
        )
        SELECT day FROM days WHERE day IS NOT NULL ORDER BY day;
        """;

    private const string ReadDayHoursSql = """
        SELECT hour, hub, block
        FROM hourly_blocks
        WHERE aggregation = ?1 AND hour >= ?2 AND hour < ?3
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
            logger,
            DropOldViews);
    }

    public string FilePath => database.FilePath;

    public Task<BatchFrontier> GetFrontierAsync(string aggregation, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(aggregation);
        cancellationToken.ThrowIfCancellationRequested();

        using var connection = database.OpenReader();
        using var statement = new SqliteRawStatement(connection, "SELECT watermark_hour, sequence, daily_watermark_day FROM frontiers WHERE aggregation = ?1;");
        statement.Bind(1, aggregation);
        var frontier = statement.Step()
            ? new BatchFrontier(new UtcHour(statement.GetInt64(0)), statement.GetInt64(1), new UtcDay(statement.GetInt64(2)))
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

    public async Task WriteHourPartAsync(AggregationDefinition aggregation, BucketRows<UtcHour> rows, bool replace, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(aggregation);
        ArgumentNullException.ThrowIfNull(rows);

        await database.WriteLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var rowCount = WriteHourPart(aggregation, rows, replace, cancellationToken);
            SqliteStorageLog.HourPartWritten(logger, aggregation.Name, rows.Bucket.Start, replace, rowCount);
        }
        finally
        {
            database.WriteLock.Release();
        }
    }

    public Task<IReadOnlyList<KeyedRow>> ReadHoursAsync(AggregationDefinition aggregation, KeyFilter filter, UtcHour from, UtcHour to, CancellationToken cancellationToken) =>
        Task.FromResult(ReadRows(HourlyBlocks, aggregation, filter, from.Index, to.Index, cancellationToken));

    public Task<IReadOnlyList<KeyedRow>> ReadDaysAsync(AggregationDefinition aggregation, KeyFilter filter, UtcDay from, UtcDay to, CancellationToken cancellationToken) =>
        Task.FromResult(ReadRows(DailyBlocks, aggregation, filter, from.Index, to.Index, cancellationToken));

    public Task<IReadOnlyList<UtcDay>> GetDaysWithHourlyRowsAsync(AggregationDefinition aggregation, UtcDay from, UtcDay to, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(aggregation);
        cancellationToken.ThrowIfCancellationRequested();
        if (to <= from)
        {
            return Task.FromResult<IReadOnlyList<UtcDay>>([]);
        }

        using var connection = database.OpenReader();
        using var statement = new SqliteRawStatement(connection, DaysWithHourlyRowsSql);
        statement.Bind(1, aggregation.ViewId);
        statement.Bind(2, FirstHourIndex(from.Index));
        statement.Bind(3, FirstHourIndex(to.Index));

        var result = new List<UtcDay>();
        while (statement.Step())
        {
            result.Add(new UtcDay(statement.GetInt64(0)));
        }

        return Task.FromResult<IReadOnlyList<UtcDay>>(result);
    }

    public Task<IReadOnlyList<BucketRows<UtcHour>>> ReadDayHoursAsync(AggregationDefinition aggregation, UtcDay day, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(aggregation);
        cancellationToken.ThrowIfCancellationRequested();

        using var connection = database.OpenReader();
        using var statement = new SqliteRawStatement(connection, ReadDayHoursSql);
        statement.Bind(1, aggregation.ViewId);
        statement.Bind(2, FirstHourIndex(day.Index));
        statement.Bind(3, FirstHourIndex(Math.Min(day.Index, DayIndexLimit) + 1));

        var strings = new Utf8StringPool(PooledStringsPerRead);
        var result = new List<BucketRows<UtcHour>>();
        Dictionary<AggregationKey, AggregateRow>? rows = null;
        Action<AggregationKey, AggregateRow> add = (key, row) => rows!.Add(key, row);
        long currentHour = -1;
        while (statement.Step())
        {
            var hour = statement.GetInt64(0);
            if (rows is null || hour != currentHour)
            {
                rows = new Dictionary<AggregationKey, AggregateRow>();
                currentHour = hour;
                result.Add(new BucketRows<UtcHour>(new UtcHour(hour), rows));
            }

            var hub = strings.Get(statement.GetBytes(1));
            ViewBlockCodec.Read(statement.GetBytes(2), aggregation, hub, null, strings, add);
        }

        return Task.FromResult<IReadOnlyList<BucketRows<UtcHour>>>(result);
    }

    public void Dispose() => database.Dispose();

    /// <summary>Returns the index of the first hour of day <paramref name="dayIndex"/>, capped just past the last valid hour.</summary>
    private static long FirstHourIndex(long dayIndex) => Math.Min(dayIndex, DayIndexLimit) * 24;

    private void DropOldViews(SqliteConnection connection, SqliteTransaction transaction, long storedVersion, string filePath)
    {
        Log.OldViewsDropped(logger, filePath, storedVersion, SchemaVersion);
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = DropVersion1Sql;
        command.ExecuteNonQuery();
    }

    private int WriteHourPart(AggregationDefinition aggregation, BucketRows<UtcHour> rows, bool replace, CancellationToken cancellationToken)
    {
        var connection = database.Writer;
        using var transaction = connection.BeginTransaction();
        using (var frontier = new SqliteRawStatement(connection, "SELECT watermark_hour FROM frontiers WHERE aggregation = ?1;"))
        {
            frontier.Bind(1, aggregation.ViewId);
            if (frontier.Step() && rows.Bucket.Index < frontier.GetInt64(0))
            {
                throw new InvalidOperationException(
                    $"Hour {rows.Bucket} of aggregation '{aggregation.Name}' is before its watermark {new UtcHour(frontier.GetInt64(0))}, where readers would see a part of it. Replace such an hour whole with CommitAsync.");
            }
        }

        int rowCount;
        using (var writer = new BucketWriter(connection, HourlyBlocks, aggregation, new ViewBlockBuffer()))
        {
            rowCount = writer.Write(rows.Bucket.Index, rows.Rows, replace);
        }

        cancellationToken.ThrowIfCancellationRequested();
        transaction.Commit();
        return rowCount;
    }

    private int Commit(
        AggregationDefinition aggregation,
        IReadOnlyList<BucketRows<UtcHour>> hours,
        IReadOnlyList<BucketRows<UtcDay>> days,
        BatchFrontier frontier,
        CancellationToken cancellationToken)
    {
        var connection = database.Writer;

        // Disposing the transaction without Commit rolls back every bucket written so far, so
        // an exception or a cancellation part way through leaves the previous state.
        using var transaction = connection.BeginTransaction();
        var buffer = new ViewBlockBuffer();
        var rowCount = 0;
        using (var writer = new BucketWriter(connection, HourlyBlocks, aggregation, buffer))
        {
            foreach (var bucket in hours)
            {
                cancellationToken.ThrowIfCancellationRequested();
                rowCount += writer.Replace(bucket.Bucket.Index, bucket.Rows);
            }
        }

        using (var writer = new BucketWriter(connection, DailyBlocks, aggregation, buffer))
        {
            foreach (var bucket in days)
            {
                cancellationToken.ThrowIfCancellationRequested();
                rowCount += writer.Replace(bucket.Bucket.Index, bucket.Rows);
            }
        }

        using (var upsert = new SqliteRawStatement(connection, UpsertFrontierSql))
        {
            upsert.Bind(1, aggregation.ViewId);
            upsert.Bind(2, frontier.Watermark.Index);
            upsert.Bind(3, frontier.Sequence);
            upsert.Bind(4, frontier.DailyWatermark.Index);
            upsert.Execute();
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
        if (!ViewBlockChecks.TryPrepareRead(aggregation, filter, from, to, out var conditions))
        {
            return [];
        }

        using var connection = database.OpenReader();
        using var statement = new SqliteRawStatement(connection, table.SelectHubRangeSql);
        statement.Bind(1, aggregation.ViewId);
        statement.Bind(2, filter.HubId);
        statement.Bind(3, from);
        statement.Bind(4, to);

        var strings = new Utf8StringPool(PooledStringsPerRead);
        var result = new List<KeyedRow>();
        Action<AggregationKey, AggregateRow> add = (key, row) => result.Add(new KeyedRow(key, row));
        while (statement.Step())
        {
            ViewBlockCodec.Read(statement.GetBytes(0), aggregation, filter.HubId, conditions, strings, add);
        }

        return result;
    }

    /// <summary>A blocks table, its bucket column, and the parameter of <see cref="CommitAsync"/> that fills it.</summary>
    private sealed record BucketTable(string Name, string BucketColumn, string ParameterName)
    {
        /// <summary>Parameters: ?1 aggregation, ?2 hub, ?3 first bucket, ?4 bucket after the last.</summary>
        public string SelectHubRangeSql { get; } =
            $"SELECT block FROM {Name} WHERE aggregation = ?1 AND hub = ?2 AND {BucketColumn} >= ?3 AND {BucketColumn} < ?4;";

        /// <summary>Parameters: ?1 aggregation, ?2 bucket.</summary>
        public string DeleteBucketSql { get; } = $"DELETE FROM {Name} WHERE aggregation = ?1 AND {BucketColumn} = ?2;";

        /// <summary>Parameters: ?1 aggregation, ?2 bucket, ?3 hub, ?4 key count, ?5 block.</summary>
        public string InsertSql { get; } = $"INSERT INTO {Name} (aggregation, {BucketColumn}, hub, key_count, block) VALUES (?1, ?2, ?3, ?4, ?5);";
    }

    /// <summary>Replaces the blocks of one bucket at a time, with two prepared statements.</summary>
    private sealed class BucketWriter : IDisposable
    {
        private readonly Action<long, AggregationKey, AggregateRow> validate;
        private readonly ViewBlockBuffer buffer;
        private readonly SqliteRawStatement delete;
        private readonly SqliteRawStatement insert;

        public BucketWriter(SqliteConnection connection, BucketTable table, AggregationDefinition aggregation, ViewBlockBuffer buffer)
        {
            this.buffer = buffer;
            validate = ViewBlockChecks.RowValidator(aggregation, table.ParameterName);
            delete = new SqliteRawStatement(connection, table.DeleteBucketSql);
            insert = new SqliteRawStatement(connection, table.InsertSql);

            // SQLite keeps bound values across executions.
            delete.Bind(1, aggregation.ViewId);
            insert.Bind(1, aggregation.ViewId);
        }

        /// <summary>Deletes the bucket's blocks, writes one block per hub of <paramref name="rows"/> and returns how many keys it wrote.</summary>
        public int Replace(long bucket, IReadOnlyDictionary<AggregationKey, AggregateRow> rows) => Write(bucket, rows, deleteFirst: true);

        /// <summary>
        /// Writes one block per hub of <paramref name="rows"/>, after deleting the bucket's blocks
        /// when <paramref name="deleteFirst"/> is set, and returns how many keys it wrote.
        /// </summary>
        public int Write(long bucket, IReadOnlyDictionary<AggregationKey, AggregateRow> rows, bool deleteFirst)
        {
            if (deleteFirst)
            {
                delete.Bind(2, bucket);
                delete.Execute();
            }

            foreach (var (hub, hubRows) in HubBlocks.GroupByHub(rows, (key, row) => validate(bucket, key, row)))
            {
                Insert(bucket, hub, hubRows);
            }

            return rows.Count;
        }

        public void Dispose()
        {
            delete.Dispose();
            insert.Dispose();
        }

        private void Insert(long bucket, string hub, List<KeyValuePair<AggregationKey, AggregateRow>> hubRows)
        {
            buffer.Clear();
            ViewBlockCodec.Write(buffer, hubRows);
            insert.Bind(2, bucket);
            insert.Bind(3, hub);
            insert.Bind(4, hubRows.Count);
            insert.Bind(5, buffer.Written);
            insert.Execute();
        }

    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5003, Level = LogLevel.Warning, Message = "The view store {Path} has schema version {StoredVersion}, this build writes version {SchemaVersion}; its views and frontiers were dropped, and every aggregation is backfilled from the event store")]
        public static partial void OldViewsDropped(ILogger logger, string path, long storedVersion, int schemaVersion);
    }
}
