using System.Text;
using LambdaStats.Modules.Events.Contracts;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace LambdaStats.Modules.Storage.Sqlite;

/// <summary>
/// Appends batches whose ids are all well-formed UTF-16 on the writer connection: drops ids
/// repeated in the batch, then inserts the rest with statements of <see cref="RowsPerInsert"/>
/// rows. A statement that hits an id stored earlier is rolled back by SQLite, and only that
/// statement's ids are then looked up, so a batch without duplicates costs no lookup at all.
/// </summary>
/// <remarks>
/// The statements bind their values by position through SQLitePCLRaw, the native binding that
/// Microsoft.Data.Sqlite is built on, inside the caller's transaction. Microsoft.Data.Sqlite
/// binds each parameter by name, which costs more than SQLite's own insert here and grows with
/// the square of the parameters in a statement. The full-size insert stays prepared for the life
/// of the connection, and strings are bound from one reused UTF-8 buffer instead of a new array each.
/// The caller holds the write lock, so no other append runs between a lookup and its insert.
/// A rolled-back statement leaves no gap in the sequences: SQLite undoes its rows and does not
/// advance the AUTOINCREMENT counter, which it stores only when a statement completes.
/// Well-formed UTF-16 matters because .NET compares ids as UTF-16 and SQLite as UTF-8: a lone
/// surrogate becomes U+FFFD in UTF-8, so two ids that differ in .NET can be equal in SQLite.
/// Batches with such ids take the per-event path of <see cref="SqliteEventStore"/>.
/// </remarks>
internal sealed class SqliteEventBatchAppender : IDisposable
{
    public const int RowsPerInsert = 32;
    private const int ColumnCount = 13;

    private readonly sqlite3 database;
    private readonly sqlite3_stmt fullInsert;
    private byte[] utf8 = new byte[256];

    /// <param name="writer">The open writer connection. It must outlive this appender.</param>
    public SqliteEventBatchAppender(SqliteConnection writer)
    {
        database = writer.Handle ?? throw new InvalidOperationException("The connection is not open.");
        fullInsert = Prepare(InsertSql(RowsPerInsert));
    }

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
    public List<LambdaEvent> Append(IReadOnlyList<LambdaEvent> events, CancellationToken cancellationToken)
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

        var stored = new List<LambdaEvent>(unique.Count);
        for (var start = 0; start < unique.Count; start += RowsPerInsert)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var count = Math.Min(RowsPerInsert, unique.Count - start);
            var chunk = unique.GetRange(start, count);
            if (TryInsert(chunk))
            {
                stored.AddRange(chunk);
                continue;
            }

            // Some id of the chunk is stored already: insert only the others. They cannot
            // conflict now, because the batch contains each id once.
            var storedIds = FindStoredIds(chunk);
            var fresh = chunk.FindAll(e => !storedIds.Contains(e.Id));
            if (fresh.Count > 0 && !TryInsert(fresh))
            {
                throw new InvalidOperationException("An id that the lookup did not find conflicted on insert; the append is rolled back.");
            }

            stored.AddRange(fresh);
        }

        return stored;
    }

    public void Dispose() => fullInsert.Dispose();

    /// <summary>Inserts the rows in one statement, or returns false, with nothing inserted, when one of their ids is stored.</summary>
    private bool TryInsert(List<LambdaEvent> events)
    {
        var partial = events.Count == RowsPerInsert ? null : Prepare(InsertSql(events.Count));
        var insert = partial ?? fullInsert;
        try
        {
            for (var row = 0; row < events.Count; row++)
            {
                BindRow(insert, row * ColumnCount, events[row]);
            }

            var result = raw.sqlite3_step(insert);
            if (result == raw.SQLITE_CONSTRAINT && raw.sqlite3_extended_errcode(database) == SqliteConstraintUnique)
            {
                return false;
            }

            Check(result == raw.SQLITE_DONE ? raw.SQLITE_OK : result);
            return true;
        }
        finally
        {
            // The prepared insert outlives this call, and SQLite rejects new values on a statement
            // that was stepped and not reset. After a failed step, reset returns the step's error
            // again, which the step has already reported.
            raw.sqlite3_reset(insert);
            partial?.Dispose();
        }
    }

    /// <summary>SQLite's extended result code for a UNIQUE constraint failure.</summary>
    private const int SqliteConstraintUnique = 2067;

    private HashSet<string> FindStoredIds(List<LambdaEvent> events)
    {
        var sql = new StringBuilder("SELECT id FROM events WHERE id IN (");
        for (var i = 1; i <= events.Count; i++)
        {
            sql.Append(i == 1 ? "?" : ", ?").Append(i);
        }

        var stored = new HashSet<string>(StringComparer.Ordinal);
        using var lookup = Prepare(sql.Append(");").ToString());
        for (var i = 0; i < events.Count; i++)
        {
            BindText(lookup, i + 1, events[i].Id);
        }

        int result;
        while ((result = raw.sqlite3_step(lookup)) == raw.SQLITE_ROW)
        {
            stored.Add(raw.sqlite3_column_text(lookup, 0).utf8_to_string());
        }

        Check(result == raw.SQLITE_DONE ? raw.SQLITE_OK : result);
        return stored;
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
    private void BindRow(sqlite3_stmt statement, int offset, LambdaEvent e)
    {
        var ticks = e.OccurredAt.UtcTicks;
        BindText(statement, offset + 1, e.Id);
        Check(raw.sqlite3_bind_int(statement, offset + 2, (int)e.Type));
        Check(raw.sqlite3_bind_int64(statement, offset + 3, ticks));
        Check(raw.sqlite3_bind_int64(statement, offset + 4, ticks / TimeSpan.TicksPerHour));
        BindText(statement, offset + 5, e.HubId);
        BindText(statement, offset + 6, e.MediaId);
        BindText(statement, offset + 7, e.VisitorId);
        BindText(statement, offset + 8, e.SessionId);
        Check(e.Page is { } page ? raw.sqlite3_bind_int(statement, offset + 9, page) : raw.sqlite3_bind_null(statement, offset + 9));
        Check(e.DurationSeconds is { } seconds ? raw.sqlite3_bind_double(statement, offset + 10, seconds) : raw.sqlite3_bind_null(statement, offset + 10));
        BindText(statement, offset + 11, e.Network);
        BindText(statement, offset + 12, e.ContactKind);
        BindText(statement, offset + 13, e.Properties?.GetRawText());
    }

    /// <summary>
    /// Binds a string as UTF-8, encoded the way SQLitePCLRaw's string overload encodes it
    /// (<see cref="Encoding.UTF8"/>), into the reused buffer. SQLite copies the bytes.
    /// </summary>
    private void BindText(sqlite3_stmt statement, int index, string? value)
    {
        if (value is null)
        {
            Check(raw.sqlite3_bind_null(statement, index));
            return;
        }

        if (value.Length == 0)
        {
            // An empty span has no address, which SQLite would bind as NULL.
            Check(raw.sqlite3_bind_text(statement, index, string.Empty));
            return;
        }

        var maxLength = Encoding.UTF8.GetMaxByteCount(value.Length);
        if (utf8.Length < maxLength)
        {
            utf8 = new byte[Math.Max(maxLength, utf8.Length * 2)];
        }

        var length = Encoding.UTF8.GetBytes(value, utf8);
        Check(raw.sqlite3_bind_text(statement, index, utf8.AsSpan(0, length)));
    }

    private sqlite3_stmt Prepare(string sql)
    {
        Check(raw.sqlite3_prepare_v2(database, sql, out var statement));
        return statement;
    }

    private void Check(int result) => SqliteException.ThrowExceptionForRC(result, database);

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
