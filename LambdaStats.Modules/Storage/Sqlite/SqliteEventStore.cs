using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using LambdaStats.Modules.Common;
using LambdaStats.Modules.Events.Contracts;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LambdaStats.Modules.Storage.Sqlite;

/// <summary>
/// <see cref="IEventStore"/> on a SQLite file (<c>events.db</c>). The sequence is the table's
/// rowid, declared AUTOINCREMENT so that SQLite never hands out a sequence twice, even after the
/// highest row is deleted. A unique index on <c>id</c> keeps every id stored once, across restarts.
/// The table <c>event_counts</c>, updated in each append's transaction, serves <see cref="CountAsync"/>.
/// </summary>
/// <remarks>
/// The writer runs with <c>synchronous=NORMAL</c>: in WAL mode an append survives a kill or crash
/// of the process, but the last appends can be lost when the operating system crashes or the power
/// fails. NOTE: such a loss also rolls back the AUTOINCREMENT counter, so new events can then get
/// sequences that a view frontier (in <c>views.db</c>, synced on every commit) already covers.
/// </remarks>
internal sealed class SqliteEventStore : IEventStore, IDisposable
{
    private const int SchemaVersion = 1;

    /// <summary>
    /// Estimated cost of searching one hour through the index, in rows read by rowid. Measured
    /// with the sqlite3 shell on a table of 2 million events: about 6 µs per hour and 0.3 µs per row.
    /// </summary>
    private const long RowsPerHourSearched = 20;

    /// <summary>Window size up to which reading by rowid is cheap whatever the hour range.</summary>
    private const long SequenceScanMinRows = 10_000;

    /// <summary>Window size above which reading by rowid is never chosen, because it reads every event of the window.</summary>
    private const long SequenceScanMaxRows = 1_000_000;

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL,
            type INTEGER NOT NULL,
            occurred_ticks INTEGER NOT NULL,
            hour INTEGER NOT NULL,
            hub_id TEXT NOT NULL,
            media_id TEXT,
            visitor_id TEXT,
            session_id TEXT,
            page INTEGER,
            duration_seconds REAL,
            network TEXT,
            contact_kind TEXT,
            properties TEXT,
            CONSTRAINT events_id_unique UNIQUE (id)
        ) STRICT;
        CREATE INDEX IF NOT EXISTS events_type_hour_seq ON events (type, hour, seq);
        CREATE TABLE IF NOT EXISTS event_counts (
            type INTEGER PRIMARY KEY,
            count INTEGER NOT NULL
        ) STRICT;
        """;

    // ON CONFLICT alone would skip a stored id but still consume a sequence number (SQLite
    // allocates the AUTOINCREMENT rowid before the conflict check), so the NOT EXISTS guard
    // keeps duplicates from leaving gaps. Both report 0 changed rows for a stored id.
    private const string InsertSql = """
        INSERT INTO events (id, type, occurred_ticks, hour, hub_id, media_id, visitor_id, session_id, page, duration_seconds, network, contact_kind, properties)
        SELECT $id, $type, $occurred_ticks, $hour, $hub_id, $media_id, $visitor_id, $session_id, $page, $duration_seconds, $network, $contact_kind, $properties
        WHERE NOT EXISTS (SELECT 1 FROM events WHERE id = $id)
        ON CONFLICT (id) DO NOTHING;
        """;

    private const string AddCountSql = """
        INSERT INTO event_counts (type, count) VALUES ($type, $count)
        ON CONFLICT (type) DO UPDATE SET count = count + excluded.count;
        """;

    // The hour bounds let SQLite seek events_type_hour_seq, whose order (hour, seq) also serves
    // ORDER BY, so rows stream without a sort. The tick bounds then apply the exact time range.
    // Parameters: ?1 type, ?2 first hour, ?3 last hour, ?4 after sequence, ?5 up to sequence,
    // ?6 first tick, ?7 tick after the last. The columns are read by position (ScanColumn).
    internal const string ScanSql = """
        SELECT id, type, occurred_ticks, hub_id, media_id, visitor_id, session_id, page, duration_seconds, network, contact_kind, properties
        FROM events
        WHERE type = ?1
          AND hour >= ?2 AND hour <= ?3
          AND seq > ?4 AND seq <= ?5
          AND occurred_ticks >= ?6 AND occurred_ticks < ?7
        ORDER BY hour, seq;
        """;

    /// <summary>Strings a scan keeps for reuse: hubs, media, networks and contact kinds of a busy hour.</summary>
    private const int PooledStringsPerScan = 200_000;

    // Finds each hour with events of the type by one index seek per hour (MIN over
    // events_type_hour_seq), then checks the sequence window with one more seek in that hour.
    // The cost grows with the number of hours that have events, not with the number of events.
    internal const string HoursByIndexSql = """
        WITH RECURSIVE hours (hour) AS (
            SELECT (SELECT MIN(hour) FROM events WHERE type = $type AND hour >= $from_hour AND hour < $to_hour)
            UNION ALL
            SELECT (SELECT MIN(e.hour) FROM events e WHERE e.type = $type AND e.hour > hours.hour AND e.hour < $to_hour)
            FROM hours
            WHERE hours.hour IS NOT NULL
        )
        SELECT hours.hour
        FROM hours
        WHERE hours.hour IS NOT NULL
          AND EXISTS (SELECT 1 FROM events e WHERE e.type = $type AND e.hour = hours.hour AND e.seq > $after_seq AND e.seq <= $up_to_seq)
        ORDER BY hours.hour;
        """;

    // Reads every row of the sequence window through the rowid, for all types at once. NOT
    // INDEXED keeps SQLite from switching to events_type_hour_seq, which would read every event of
    // the hour range. Parameters: ?1 after sequence, ?2 up to sequence.
    internal const string WindowHoursSql = """
        SELECT DISTINCT type, hour
        FROM events NOT INDEXED
        WHERE seq > ?1 AND seq <= ?2;
        """;

    private readonly Lock windowLock = new();

    /// <summary>
    /// The (type, hour) pairs of the last sequence window read. A batch run requests the same window
    /// once per aggregation, and the window's rows never change once its last sequence is stored.
    /// </summary>
    private SequenceWindowHours? lastWindow;

    private readonly SqliteDatabase database;

    /// <summary>The batch path of <see cref="AppendAsync"/>, on the writer connection; use it only under the write lock.</summary>
    private readonly SqliteEventBatchAppender batchAppender;

    public SqliteEventStore(IOptions<SqliteStorageOptions> options, ILogger<SqliteEventStore> logger)
    {
        database = SqliteDatabase.Open(
            options.Value,
            SqliteStorageOptions.EventsFileName,
            "event store",
            SchemaVersion,
            Schema,
            SqliteSynchronous.Normal,
            logger);
        try
        {
            UseMemoryForStatementJournals(database.Writer);
            batchAppender = new SqliteEventBatchAppender(database.Writer);
        }
        catch
        {
            database.Dispose();
            throw;
        }
    }

    /// <summary>How <see cref="GetHoursWithEventsAsync(EventType, UtcHour, UtcHour, long, long, HourSearch, CancellationToken)"/> finds the hours.</summary>
    internal enum HourSearch
    {
        /// <summary>Walks the hours that have events of the type, through the (type, hour, seq) index.</summary>
        ByIndex,

        /// <summary>Reads every event of the sequence window, through the rowid.</summary>
        BySequence,
    }

    public string FilePath => database.FilePath;

    public async Task<AppendResult> AppendAsync(IReadOnlyList<LambdaEvent> events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (events.Count == 0)
        {
            return new AppendResult([], 0);
        }

        await database.WriteLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return Append(events, cancellationToken);
        }
        finally
        {
            database.WriteLock.Release();
        }
    }

    public Task<long> GetMaxSequenceAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var connection = database.OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COALESCE(MAX(seq), 0) FROM events;";
        return Task.FromResult((long)command.ExecuteScalar()!);
    }

    public async IAsyncEnumerable<LambdaEvent> ScanAsync(
        EventType type,
        DateTimeOffset from,
        DateTimeOffset to,
        long afterSequence,
        long upToSequence,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var fromTicks = from.UtcTicks;
        var toTicks = to.UtcTicks;
        if (toTicks <= fromTicks || upToSequence <= afterSequence)
        {
            yield break;
        }

        using var connection = database.OpenReader();
        using var statement = new SqliteRawStatement(connection, ScanSql);
        statement.Bind(1, (int)type);
        statement.Bind(2, fromTicks / TimeSpan.TicksPerHour);
        statement.Bind(3, (toTicks - 1) / TimeSpan.TicksPerHour);
        statement.Bind(4, afterSequence);
        statement.Bind(5, upToSequence);
        statement.Bind(6, fromTicks);
        statement.Bind(7, toTicks);

        // The statement steps through the index one row at a time, so memory stays flat however
        // many events the range contains. It reads one snapshot: appends committed after the
        // first row do not appear. Microsoft.Data.Sqlite runs its async methods synchronously
        // too, so stepping here blocks no more than its reader did.
        var strings = new Utf8StringPool(PooledStringsPerScan);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!statement.Step())
            {
                break;
            }

            yield return ReadEvent(statement, strings);
        }

        // The method stays an async iterator, as the interface requires, though it never waits.
        await Task.CompletedTask.ConfigureAwait(false);
    }

    public IAsyncEnumerable<LambdaEvent> ScanHourAsync(
        UtcHour hour,
        IReadOnlyCollection<EventType> types,
        IReadOnlyCollection<EventField> fields,
        long upToSequence,
        CancellationToken cancellationToken) =>
        SqliteHourScan.ReadAsync(database, hour, types, fields, upToSequence, null, null, cancellationToken);

    public IAsyncEnumerable<LambdaEvent> ScanHourAsync(
        UtcHour hour,
        IReadOnlyCollection<EventType> types,
        IReadOnlyCollection<EventField> fields,
        long upToSequence,
        Func<string, bool> includeHub,
        CancellationToken cancellationToken) =>
        SqliteHourScan.ReadAsync(database, hour, types, fields, upToSequence, includeHub, null, cancellationToken);

    /// <summary>Returns the same events as the public overload, read the way <paramref name="path"/> selects.</summary>
    internal IAsyncEnumerable<LambdaEvent> ScanHourAsync(
        UtcHour hour,
        IReadOnlyCollection<EventType> types,
        IReadOnlyCollection<EventField> fields,
        long upToSequence,
        SqliteHourScan.Path path,
        CancellationToken cancellationToken) =>
        SqliteHourScan.ReadAsync(database, hour, types, fields, upToSequence, null, path, cancellationToken);

    /// <summary>Returns the same events as the hub-filtered public overload, read the way <paramref name="path"/> selects.</summary>
    internal IAsyncEnumerable<LambdaEvent> ScanHourAsync(
        UtcHour hour,
        IReadOnlyCollection<EventType> types,
        IReadOnlyCollection<EventField> fields,
        long upToSequence,
        Func<string, bool> includeHub,
        SqliteHourScan.Path path,
        CancellationToken cancellationToken) =>
        SqliteHourScan.ReadAsync(database, hour, types, fields, upToSequence, includeHub, path, cancellationToken);

    public Task<IReadOnlyList<UtcHour>> GetHoursWithEventsAsync(
        EventType type,
        UtcHour from,
        UtcHour to,
        long afterSequence,
        long upToSequence,
        CancellationToken cancellationToken)
    {
        // Sequences start at 1, so clamping at 0 keeps the window and avoids overflow below.
        var windowRows = upToSequence - Math.Max(afterSequence, 0);
        var search = ChooseHourSearch(windowRows, to.Index - from.Index);
        return GetHoursWithEventsAsync(type, from, to, afterSequence, upToSequence, search, cancellationToken);
    }

    /// <summary>
    /// Chooses the cheaper way to find the hours, from the number of sequences in the window
    /// (an upper bound of its events) and the number of hours in the range (an upper bound of the
    /// hours the index search visits).
    /// </summary>
    internal static HourSearch ChooseHourSearch(long windowRows, long hourCount)
    {
        var sequenceScanLimit = Math.Max(SequenceScanMinRows, Math.Min(RowsPerHourSearched * Math.Max(hourCount, 0), SequenceScanMaxRows));
        return windowRows <= sequenceScanLimit ? HourSearch.BySequence : HourSearch.ByIndex;
    }

    /// <summary>Returns the same hours as the public overload, found the way <paramref name="search"/> selects.</summary>
    internal Task<IReadOnlyList<UtcHour>> GetHoursWithEventsAsync(
        EventType type,
        UtcHour from,
        UtcHour to,
        long afterSequence,
        long upToSequence,
        HourSearch search,
        CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (to <= from || upToSequence <= afterSequence)
        {
            return Task.FromResult<IReadOnlyList<UtcHour>>([]);
        }

        if (search == HourSearch.BySequence)
        {
            var inWindow = ReadWindowHours(afterSequence, upToSequence).Hours
                .Where(entry => entry.Type == type && entry.Hour >= from.Index && entry.Hour < to.Index)
                .Select(entry => new UtcHour(entry.Hour))
                .Order()
                .ToList();
            return Task.FromResult<IReadOnlyList<UtcHour>>(inWindow);
        }

        using var connection = database.OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = HoursByIndexSql;
        command.Parameters.AddWithValue("$type", (int)type);
        command.Parameters.AddWithValue("$from_hour", from.Index);
        command.Parameters.AddWithValue("$to_hour", to.Index);
        command.Parameters.AddWithValue("$after_seq", afterSequence);
        command.Parameters.AddWithValue("$up_to_seq", upToSequence);

        var hours = new List<UtcHour>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            hours.Add(new UtcHour(reader.GetInt64(0)));
        }

        return Task.FromResult<IReadOnlyList<UtcHour>>(hours);
    }

    public Task<long> CountAsync(EventType type, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var connection = database.OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COALESCE((SELECT count FROM event_counts WHERE type = $type), 0);";
        command.Parameters.AddWithValue("$type", (int)type);
        return Task.FromResult((long)command.ExecuteScalar()!);
    }

    /// <remarks>Counts the entries of the (type, hour, seq) index, one range per type, without reading the table.</remarks>
    public Task<long> CountHourAsync(UtcHour hour, IReadOnlyCollection<EventType> types, long upToSequence, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var connection = database.OpenReader();
        using var statement = new SqliteRawStatement(connection, "SELECT count(*) FROM events WHERE type = ?1 AND hour = ?2 AND seq <= ?3;");
        var count = 0L;
        foreach (var type in types.Distinct())
        {
            statement.Reset();
            statement.Bind(1, (int)type);
            statement.Bind(2, hour.Index);
            statement.Bind(3, upToSequence);
            if (statement.Step())
            {
                count += statement.GetInt64(0);
            }
        }

        return Task.FromResult(count);
    }

    public void Dispose()
    {
        batchAppender.Dispose();
        database.Dispose();
    }

    /// <summary>Returns the (type, hour) pairs of the events whose sequence is in (<paramref name="afterSequence"/>, <paramref name="upToSequence"/>].</summary>
    private SequenceWindowHours ReadWindowHours(long afterSequence, long upToSequence)
    {
        lock (windowLock)
        {
            if (lastWindow is { } cached && cached.AfterSequence == afterSequence && cached.UpToSequence == upToSequence)
            {
                return cached;
            }
        }

        using var connection = database.OpenReader();
        long maxSequence;
        using (var max = new SqliteRawStatement(connection, "SELECT COALESCE(MAX(seq), 0) FROM events;"))
        {
            max.Step();
            maxSequence = max.GetInt64(0);
        }

        var hours = new List<(EventType Type, long Hour)>();
        using (var window = new SqliteRawStatement(connection, WindowHoursSql))
        {
            window.Bind(1, afterSequence);
            window.Bind(2, upToSequence);
            while (window.Step())
            {
                hours.Add(((EventType)window.GetInt64(0), window.GetInt64(1)));
            }
        }

        // A single writer stores sequences in increasing order, so every row up to the highest
        // sequence read before the scan was already committed, and the scan saw it. A window
        // that ends above that sequence can still gain rows, so it is not kept.
        var result = new SequenceWindowHours(afterSequence, upToSequence, hours);
        if (upToSequence <= maxSequence)
        {
            lock (windowLock)
            {
                lastWindow = result;
            }
        }

        return result;
    }

    /// <summary>
    /// Keeps the writer's statement journals in memory. Each multi-row insert keeps a copy of the
    /// pages it changes, so that a failed statement can be undone inside its transaction. Past
    /// 64 KiB (SQLITE_STMTJRNL_SPILL, SQLite's default) that copy goes to a temporary file, one
    /// write system call per page: under bench ingest, several times the calls of the WAL itself.
    /// temp_store = MEMORY keeps the whole journal in memory. It is never read after a crash, so
    /// durability does not change.
    /// </summary>
    private static void UseMemoryForStatementJournals(SqliteConnection writer)
    {
        using var command = writer.CreateCommand();
        command.CommandText = "PRAGMA temp_store = MEMORY;";
        command.ExecuteNonQuery();
    }

    /// <summary>Runs <c>PRAGMA <paramref name="pragma"/></c> on the writer connection and returns its first value, for tests of the writer.</summary>
    internal object? RunWriterPragma(string pragma)
    {
        database.WriteLock.Wait();
        try
        {
            using var command = database.Writer.CreateCommand();
            command.CommandText = $"PRAGMA {pragma};";
            return command.ExecuteScalar();
        }
        finally
        {
            database.WriteLock.Release();
        }
    }

    private AppendResult Append(IReadOnlyList<LambdaEvent> events, CancellationToken cancellationToken)
    {
        var connection = database.Writer;
        using var transaction = connection.BeginTransaction();
        var stored = SqliteEventBatchAppender.CanAppend(events)
            ? batchAppender.Append(events, cancellationToken)
            : AppendOneByOne(connection, transaction, events, cancellationToken);

        var storedPerType = new Dictionary<EventType, long>();
        foreach (var e in stored)
        {
            storedPerType[e.Type] = storedPerType.GetValueOrDefault(e.Type) + 1;
        }

        AddCounts(connection, transaction, storedPerType);
        transaction.Commit();
        return new AppendResult(stored, events.Count - stored.Count);
    }

    /// <summary>Inserts the events one statement each, for batches that <see cref="SqliteEventBatchAppender"/> does not take.</summary>
    private static List<LambdaEvent> AppendOneByOne(SqliteConnection connection, SqliteTransaction transaction, IReadOnlyList<LambdaEvent> events, CancellationToken cancellationToken)
    {
        using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = InsertSql;
        var row = new SqliteEventRowParameters(insert, string.Empty);
        insert.Prepare();

        var stored = new List<LambdaEvent>(events.Count);
        foreach (var e in events)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ArgumentNullException.ThrowIfNull(e, nameof(events));
            row.Set(e);

            // The insert changes 0 rows for an id stored earlier, including earlier in this
            // transaction, so a repeat inside the batch counts as a duplicate too.
            if (insert.ExecuteNonQuery() == 1)
            {
                stored.Add(e);
            }
        }

        return stored;
    }

    private static void AddCounts(SqliteConnection connection, SqliteTransaction transaction, Dictionary<EventType, long> storedPerType)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = AddCountSql;
        var type = command.Parameters.Add("$type", SqliteType.Integer);
        var count = command.Parameters.Add("$count", SqliteType.Integer);
        foreach (var (eventType, stored) in storedPerType)
        {
            type.Value = (int)eventType;
            count.Value = stored;
            command.ExecuteNonQuery();
        }
    }

    private sealed record SequenceWindowHours(long AfterSequence, long UpToSequence, IReadOnlyList<(EventType Type, long Hour)> Hours);

    /// <summary>
    /// Builds an event from a row of <see cref="ScanSql"/>. Hub, medium, network and contact kind
    /// repeat across events, so they come from <paramref name="strings"/>; ids, visitors and
    /// sessions are mostly unique and get their own string.
    /// </summary>
    private static LambdaEvent ReadEvent(SqliteRawStatement row, Utf8StringPool strings) => new()
    {
        Id = Encoding.UTF8.GetString(row.GetBytes(0)),
        Type = (EventType)row.GetInt64(1),
        OccurredAt = new DateTimeOffset(row.GetInt64(2), TimeSpan.Zero),
        HubId = strings.Get(row.GetBytes(3)),
        MediaId = row.IsNull(4) ? null : strings.Get(row.GetBytes(4)),
        VisitorId = row.IsNull(5) ? null : Encoding.UTF8.GetString(row.GetBytes(5)),
        SessionId = row.IsNull(6) ? null : Encoding.UTF8.GetString(row.GetBytes(6)),
        Page = row.IsNull(7) ? null : (int)row.GetInt64(7),
        DurationSeconds = row.IsNull(8) ? null : row.GetDouble(8),
        Network = row.IsNull(9) ? null : strings.Get(row.GetBytes(9)),
        ContactKind = row.IsNull(10) ? null : strings.Get(row.GetBytes(10)),
        Properties = row.IsNull(11) ? null : ParseProperties(row.GetBytes(11)),
    };

    private static JsonElement ParseProperties(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        using var document = JsonDocument.ParseValue(ref reader);
        return document.RootElement.Clone();
    }
}
