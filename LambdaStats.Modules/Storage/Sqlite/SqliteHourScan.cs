using System.Runtime.CompilerServices;
using System.Text;
using LambdaStats.Modules.Common;
using LambdaStats.Modules.Events.Contracts;

namespace LambdaStats.Modules.Storage.Sqlite;

/// <summary>
/// The batch layer's read of one hour of <c>events.db</c>, which reads every requested type in one
/// pass and only the columns of the fields that the batch reads.
/// </summary>
/// <remarks>
/// Live ingestion stores an hour's events mostly one after the other, so their sequences form a
/// dense range. Reading that range through the rowid costs SQLite about half as much per event as
/// one read per type through <c>events_type_hour_seq</c>. Late events can stretch the range far
/// beyond the hour's events, and the index then reads less, so the scan samples the range first
/// and picks the cheaper path.
/// </remarks>
internal static class SqliteHourScan
{
    /// <summary>How the scan reaches the hour's rows.</summary>
    internal enum Path
    {
        /// <summary>Every row between the hour's lowest and highest sequence, through the rowid.</summary>
        ByRowid,

        /// <summary>One read per type through <c>events_type_hour_seq</c>.</summary>
        ByIndex,
    }

    /// <summary>
    /// Share of the range's rows that must belong to the hour for the rowid path. The sqlite3
    /// shell (3.40.1) spent about 0.3 µs of CPU time per row read by rowid and 0.5 µs per row read
    /// through the index, on a table of 1,000,000 events (section 5a of docs/benchmarks.md).
    /// </summary>
    private const double MinShareInHour = 0.6;

    /// <summary>Range size up to which the rowid path is taken whatever the hour holds.</summary>
    private const long RowidScanMinRows = 4_096;

    /// <summary>Rows of the range whose hour is read to estimate its share of the hour's rows.</summary>
    internal const int Samples = 64;

    /// <summary>Strings the scan keeps for reuse: hubs, media, networks and contact kinds of a busy hour.</summary>
    private const int PooledStrings = 200_000;

    // One index seek each, because SQLite's min/max optimisation applies only to a query with a single MIN or MAX.
    // Parameters: ?1 type, ?2 hour, ?3 up to sequence.
    internal const string LowestSql = "SELECT MIN(seq) FROM events WHERE type = ?1 AND hour = ?2 AND seq <= ?3;";
    internal const string HighestSql = "SELECT MAX(seq) FROM events WHERE type = ?1 AND hour = ?2 AND seq <= ?3;";

    // One rowid lookup. Parameter: ?1 sequence.
    internal const string HourOfSql = "SELECT hour FROM events WHERE seq = ?1;";

    // NOT INDEXED keeps SQLite on the rowid range, because with the index it would read the hour
    // of every type through events_type_hour_seq. Parameters: ?1 lowest sequence, ?2 highest, ?3 hour.
    private const string RowidClauses = "FROM events NOT INDEXED WHERE seq >= ?1 AND seq <= ?2 AND hour = ?3 ORDER BY seq";

    // Parameters: ?1 type, ?2 hour, ?3 up to sequence.
    private const string IndexClauses = "FROM events WHERE type = ?1 AND hour = ?2 AND seq <= ?3 ORDER BY seq";

    /// <summary>The columns read besides type, time and hub, in select order, with the field each holds.</summary>
    private static readonly (EventField Field, string Column)[] OptionalColumns =
    [
        (EventField.Id, "id"),
        (EventField.MediaId, "media_id"),
        (EventField.VisitorId, "visitor_id"),
        (EventField.SessionId, "session_id"),
        (EventField.Page, "page"),
        (EventField.DurationSeconds, "duration_seconds"),
        (EventField.Network, "network"),
        (EventField.ContactKind, "contact_kind"),
    ];

    /// <summary>
    /// Chooses the path that costs SQLite less, from the size of the hour's sequence range and
    /// from how many of the rows sampled across it belong to the hour.
    /// </summary>
    internal static Path Choose(long rangeRows, int samples, int samplesInHour) =>
        rangeRows <= RowidScanMinRows || (samples > 0 && samplesInHour >= MinShareInHour * samples) ? Path.ByRowid : Path.ByIndex;

    /// <summary>The statement of the rowid path for <paramref name="fields"/>.</summary>
    internal static string RowidSql(IReadOnlyCollection<EventField> fields) => new ColumnMap(fields).Select(RowidClauses);

    /// <summary>The statement of the index path for <paramref name="fields"/>.</summary>
    internal static string IndexSql(IReadOnlyCollection<EventField> fields) => new ColumnMap(fields).Select(IndexClauses);

    /// <summary>
    /// Streams the hour's events of <paramref name="types"/>, of the hubs that
    /// <paramref name="includeHub"/> accepts when it is set. A <paramref name="forcedPath"/>,
    /// which tests set, overrides the choice.
    /// </summary>
    /// <remarks>The hub is tested before any other text of the row is decoded.</remarks>
    public static async IAsyncEnumerable<LambdaEvent> ReadAsync(
        SqliteDatabase database,
        UtcHour hour,
        IReadOnlyCollection<EventType> types,
        IReadOnlyCollection<EventField> fields,
        long upToSequence,
        Func<string, bool>? includeHub,
        Path? forcedPath,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var requested = types.Distinct().Order().ToArray();
        if (requested.Length == 0 || upToSequence <= 0)
        {
            yield break;
        }

        using var connection = database.OpenReader();
        var (lowest, highest) = FindRange(connection, requested, hour, upToSequence);
        if (highest < lowest)
        {
            yield break;
        }

        var columns = new ColumnMap(fields);
        var strings = new Utf8StringPool(PooledStrings);
        var path = forcedPath ?? ChooseFor(connection, hour, lowest, highest);
        if (path == Path.ByRowid)
        {
            var isRequested = new bool[Enum.GetValues<EventType>().Max(type => (int)type) + 1];
            foreach (var type in requested)
            {
                isRequested[(int)type] = true;
            }

            // Rows of other types are skipped here, before any of their text is decoded.
            using var statement = new SqliteRawStatement(connection, columns.Select(RowidClauses));
            statement.Bind(1, lowest);
            statement.Bind(2, highest);
            statement.Bind(3, hour.Index);
            while (statement.Step())
            {
                cancellationToken.ThrowIfCancellationRequested();
                var type = statement.GetInt64(0);
                if (type >= 0 && type < isRequested.Length && isRequested[type] && Includes(statement, strings, includeHub))
                {
                    yield return columns.Read(statement, strings);
                }
            }
        }
        else
        {
            using var statement = new SqliteRawStatement(connection, columns.Select(IndexClauses));
            foreach (var type in requested)
            {
                statement.Reset();
                statement.Bind(1, (int)type);
                statement.Bind(2, hour.Index);
                statement.Bind(3, upToSequence);
                while (statement.Step())
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    if (Includes(statement, strings, includeHub))
                    {
                        yield return columns.Read(statement, strings);
                    }
                }
            }
        }

        // IEventStore returns IAsyncEnumerable, so this is an async iterator, but SQLite reads here are synchronous.
        await Task.CompletedTask.ConfigureAwait(false);
    }

    /// <summary>Whether the current row's hub, in the third column, passes <paramref name="includeHub"/>; the pool keeps the hub for the row's event.</summary>
    private static bool Includes(SqliteRawStatement row, Utf8StringPool strings, Func<string, bool>? includeHub) =>
        includeHub is null || includeHub(strings.Get(row.GetBytes(2)));

    /// <summary>Returns the lowest and highest sequence of the hour's events of <paramref name="types"/>, or an empty range (highest below lowest) when it has none.</summary>
    private static (long Lowest, long Highest) FindRange(Microsoft.Data.Sqlite.SqliteConnection connection, EventType[] types, UtcHour hour, long upToSequence)
    {
        var lowest = long.MaxValue;
        var highest = long.MinValue;
        using var lowestStatement = new SqliteRawStatement(connection, LowestSql);
        using var highestStatement = new SqliteRawStatement(connection, HighestSql);
        foreach (var type in types)
        {
            foreach (var (statement, isLowest) in new[] { (lowestStatement, true), (highestStatement, false) })
            {
                statement.Reset();
                statement.Bind(1, (int)type);
                statement.Bind(2, hour.Index);
                statement.Bind(3, upToSequence);
                if (statement.Step() && !statement.IsNull(0))
                {
                    var sequence = statement.GetInt64(0);
                    lowest = isLowest ? Math.Min(lowest, sequence) : lowest;
                    highest = isLowest ? highest : Math.Max(highest, sequence);
                }
            }
        }

        return (lowest, highest);
    }

    /// <summary>
    /// Reads the hour of <see cref="Samples"/> rows spread evenly over the range, and chooses the
    /// path from them. Counting the hour's events through the index would cost a third of the
    /// rowid read itself.
    /// </summary>
    private static Path ChooseFor(Microsoft.Data.Sqlite.SqliteConnection connection, UtcHour hour, long lowest, long highest)
    {
        var rangeRows = highest - lowest + 1;
        if (rangeRows <= RowidScanMinRows)
        {
            return Path.ByRowid;
        }

        var samples = 0;
        var inHour = 0;
        using var hourOf = new SqliteRawStatement(connection, HourOfSql);
        for (var i = 0; i < Samples; i++)
        {
            hourOf.Reset();
            hourOf.Bind(1, lowest + (rangeRows - 1) * i / (Samples - 1));
            if (hourOf.Step())
            {
                samples++;
                inHour += hourOf.GetInt64(0) == hour.Index ? 1 : 0;
            }
        }

        return Choose(rangeRows, samples, inHour);
    }

    /// <summary>Where each field sits in the select list: type, time and hub first, then the requested fields.</summary>
    private sealed class ColumnMap
    {
        private readonly int[] positions = new int[Enum.GetValues<EventField>().Max(field => (int)field) + 1];
        private readonly string selectList;

        public ColumnMap(IReadOnlyCollection<EventField> fields)
        {
            Array.Fill(positions, -1);
            var names = new List<string> { "type", "occurred_ticks", "hub_id" };
            foreach (var (field, column) in OptionalColumns)
            {
                if (fields.Contains(field))
                {
                    positions[(int)field] = names.Count;
                    names.Add(column);
                }
            }

            selectList = string.Join(", ", names);
        }

        public string Select(string rest) => $"SELECT {selectList} {rest};";

        /// <summary>Builds an event from the current row. Ids, visitors and sessions are mostly unique and get their own string.</summary>
        public LambdaEvent Read(SqliteRawStatement row, Utf8StringPool strings) => new()
        {
            Id = Text(row, EventField.Id) ?? string.Empty,
            Type = (EventType)row.GetInt64(0),
            OccurredAt = new DateTimeOffset(row.GetInt64(1), TimeSpan.Zero),
            HubId = strings.Get(row.GetBytes(2)),
            MediaId = Pooled(row, EventField.MediaId, strings),
            VisitorId = Text(row, EventField.VisitorId),
            SessionId = Text(row, EventField.SessionId),
            Page = positions[(int)EventField.Page] is var page and >= 0 && !row.IsNull(page) ? (int)row.GetInt64(page) : null,
            DurationSeconds = positions[(int)EventField.DurationSeconds] is var duration and >= 0 && !row.IsNull(duration) ? row.GetDouble(duration) : null,
            Network = Pooled(row, EventField.Network, strings),
            ContactKind = Pooled(row, EventField.ContactKind, strings),
        };

        private string? Text(SqliteRawStatement row, EventField field) =>
            positions[(int)field] is var column and >= 0 && !row.IsNull(column) ? Encoding.UTF8.GetString(row.GetBytes(column)) : null;

        private string? Pooled(SqliteRawStatement row, EventField field, Utf8StringPool strings) =>
            positions[(int)field] is var column and >= 0 && !row.IsNull(column) ? strings.Get(row.GetBytes(column)) : null;
    }
}
