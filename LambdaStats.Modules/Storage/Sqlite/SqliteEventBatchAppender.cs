using System.Text;
using LambdaStats.Modules.Events.Contracts;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace LambdaStats.Modules.Storage.Sqlite;

/// <summary>
/// Appends a batch whose ids are all well-formed UTF-16: drops ids repeated in the batch or
/// already stored, found with one query per <see cref="IdsPerLookup"/> ids, then inserts the rest
/// with statements of <see cref="RowsPerInsert"/> rows. For 1,000 new events that is 36 statements
/// instead of 1,000 INSERT … WHERE NOT EXISTS, and the same rows and sequences.
/// </summary>
/// <remarks>
/// The statements bind their values by position through SQLitePCLRaw, the native binding that
/// Microsoft.Data.Sqlite is built on, inside the caller's transaction. Microsoft.Data.Sqlite
/// binds each parameter by name, which costs more than SQLite's own insert here and grows with
/// the square of the parameters in a statement.
/// The caller holds the write lock, so no other append runs between the lookup and the inserts.
/// Well-formed UTF-16 matters because .NET compares ids as UTF-16 and SQLite as UTF-8: a lone
/// surrogate becomes U+FFFD in UTF-8, so two ids that differ in .NET can be equal in SQLite.
/// Batches with such ids take the per-event path of <see cref="SqliteEventStore"/>.
/// </remarks>
internal static class SqliteEventBatchAppender
{
    public const int RowsPerInsert = 32;
    public const int IdsPerLookup = 256;
    private const int ColumnCount = 13;

    public static bool CanAppend(IReadOnlyList<LambdaEvent> events)
    {
        foreach (var e in events)
        {
            if (e is null || !IsWellFormedUtf16(e.Id))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Inserts the events not stored yet, keeping the first of repeated ids, and returns them in batch order.</summary>
    /// <exception cref="SqliteException">A statement failed. The caller's transaction must then roll back.</exception>
    public static List<LambdaEvent> Append(SqliteConnection connection, IReadOnlyList<LambdaEvent> events, CancellationToken cancellationToken)
    {
        var unique = new List<LambdaEvent>(events.Count);
        var ids = new HashSet<string>(events.Count, StringComparer.Ordinal);
        foreach (var e in events)
        {
            if (ids.Add(e.Id))
            {
                unique.Add(e);
            }
        }

        var database = connection.Handle!;
        var stored = FindStoredIds(database, unique, cancellationToken);
        var fresh = stored.Count == 0 ? unique : unique.FindAll(e => !stored.Contains(e.Id));
        Insert(database, fresh, cancellationToken);
        return fresh;
    }

    private static HashSet<string> FindStoredIds(sqlite3 database, List<LambdaEvent> events, CancellationToken cancellationToken)
    {
        var stored = new HashSet<string>(StringComparer.Ordinal);
        for (var start = 0; start < events.Count; start += IdsPerLookup)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var count = Math.Min(IdsPerLookup, events.Count - start);
            var sql = new StringBuilder("SELECT id FROM events WHERE id IN (");
            for (var i = 1; i <= count; i++)
            {
                sql.Append(i == 1 ? "?" : ", ?").Append(i);
            }

            using var lookup = Prepare(database, sql.Append(");").ToString());
            for (var i = 0; i < count; i++)
            {
                Check(database, raw.sqlite3_bind_text(lookup, i + 1, events[start + i].Id));
            }

            int result;
            while ((result = raw.sqlite3_step(lookup)) == raw.SQLITE_ROW)
            {
                stored.Add(raw.sqlite3_column_text(lookup, 0).utf8_to_string());
            }

            Check(database, result == raw.SQLITE_DONE ? raw.SQLITE_OK : result);
        }

        return stored;
    }

    private static void Insert(sqlite3 database, List<LambdaEvent> events, CancellationToken cancellationToken)
    {
        var fullStatements = events.Count / RowsPerInsert;
        if (fullStatements > 0)
        {
            using var insert = Prepare(database, InsertSql(RowsPerInsert));
            for (var statement = 0; statement < fullStatements; statement++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                for (var row = 0; row < RowsPerInsert; row++)
                {
                    BindRow(database, insert, row * ColumnCount, events[statement * RowsPerInsert + row]);
                }

                Execute(database, insert);
            }
        }

        var remaining = events.Count - fullStatements * RowsPerInsert;
        if (remaining > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var insert = Prepare(database, InsertSql(remaining));
            for (var row = 0; row < remaining; row++)
            {
                BindRow(database, insert, row * ColumnCount, events[fullStatements * RowsPerInsert + row]);
            }

            Execute(database, insert);
        }
    }

    private static string InsertSql(int rowCount)
    {
        var sql = new StringBuilder("INSERT INTO events (").Append(SqliteEventRowParameters.Columns).Append(") VALUES ");
        for (var row = 0; row < rowCount; row++)
        {
            sql.Append(row == 0 ? "(" : ", (");
            for (var column = 1; column <= ColumnCount; column++)
            {
                sql.Append(column == 1 ? "?" : ", ?").Append(row * ColumnCount + column);
            }

            sql.Append(')');
        }

        return sql.Append(';').ToString();
    }

    /// <summary>Binds one event to the parameters after <paramref name="offset"/>, in the order of <see cref="SqliteEventRowParameters.Columns"/>.</summary>
    private static void BindRow(sqlite3 database, sqlite3_stmt statement, int offset, LambdaEvent e)
    {
        var ticks = e.OccurredAt.UtcTicks;
        Check(database, raw.sqlite3_bind_text(statement, offset + 1, e.Id));
        Check(database, raw.sqlite3_bind_int(statement, offset + 2, (int)e.Type));
        Check(database, raw.sqlite3_bind_int64(statement, offset + 3, ticks));
        Check(database, raw.sqlite3_bind_int64(statement, offset + 4, ticks / TimeSpan.TicksPerHour));
        Check(database, raw.sqlite3_bind_text(statement, offset + 5, e.HubId));
        BindText(database, statement, offset + 6, e.MediaId);
        BindText(database, statement, offset + 7, e.VisitorId);
        BindText(database, statement, offset + 8, e.SessionId);
        Check(database, e.Page is { } page ? raw.sqlite3_bind_int(statement, offset + 9, page) : raw.sqlite3_bind_null(statement, offset + 9));
        Check(database, e.DurationSeconds is { } seconds ? raw.sqlite3_bind_double(statement, offset + 10, seconds) : raw.sqlite3_bind_null(statement, offset + 10));
        BindText(database, statement, offset + 11, e.Network);
        BindText(database, statement, offset + 12, e.ContactKind);
        BindText(database, statement, offset + 13, e.Properties?.GetRawText());
    }

    private static void BindText(sqlite3 database, sqlite3_stmt statement, int index, string? value) =>
        Check(database, value is null ? raw.sqlite3_bind_null(statement, index) : raw.sqlite3_bind_text(statement, index, value));

    private static sqlite3_stmt Prepare(sqlite3 database, string sql)
    {
        Check(database, raw.sqlite3_prepare_v2(database, sql, out var statement));
        return statement;
    }

    private static void Execute(sqlite3 database, sqlite3_stmt statement)
    {
        var result = raw.sqlite3_step(statement);
        Check(database, result == raw.SQLITE_DONE ? raw.SQLITE_OK : result);
        Check(database, raw.sqlite3_reset(statement));
    }

    private static void Check(sqlite3 database, int result) => SqliteException.ThrowExceptionForRC(result, database);

    private static bool IsWellFormedUtf16(string value)
    {
        if (System.Text.Ascii.IsValid(value))
        {
            return true;
        }

        for (var i = 0; i < value.Length; i++)
        {
            if (char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(value[i]))
            {
                return false;
            }
        }

        return true;
    }
}
