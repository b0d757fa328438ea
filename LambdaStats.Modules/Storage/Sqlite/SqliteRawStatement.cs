using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace LambdaStats.Modules.Storage.Sqlite;

/// <summary>
/// One prepared statement on a connection's native handle, with its values bound by position
/// (1-based, as <c>?1</c> in the SQL) through SQLitePCLRaw. Microsoft.Data.Sqlite looks each
/// parameter up by name on every execution. Binding and reading by position costs less on the
/// paths that run a statement many times or read many rows.
/// </summary>
/// <remarks>
/// Runs inside the connection's current transaction, if any. A failed call throws the
/// <see cref="SqliteException"/> that Microsoft.Data.Sqlite would throw.
/// </remarks>
internal sealed class SqliteRawStatement : IDisposable
{
    private readonly sqlite3 database;
    private readonly sqlite3_stmt statement;

    public SqliteRawStatement(SqliteConnection connection, string sql)
    {
        database = connection.Handle ?? throw new InvalidOperationException("The connection is not open.");
        Check(raw.sqlite3_prepare_v2(database, sql, out statement));
    }

    public void Bind(int index, long value) => Check(raw.sqlite3_bind_int64(statement, index, value));

    public void Bind(int index, double value) => Check(raw.sqlite3_bind_double(statement, index, value));

    public void Bind(int index, string value) => Check(raw.sqlite3_bind_text(statement, index, value));

    public void Bind(int index, ReadOnlySpan<byte> blob) => Check(raw.sqlite3_bind_blob(statement, index, blob));

    /// <summary>Steps to the next row, and returns false when there is none.</summary>
    public bool Step()
    {
        var result = raw.sqlite3_step(statement);
        if (result == raw.SQLITE_ROW)
        {
            return true;
        }

        Check(result == raw.SQLITE_DONE ? raw.SQLITE_OK : result);
        return false;
    }

    /// <summary>Runs a statement that returns no rows, then resets it for the next values.</summary>
    public void Execute()
    {
        while (Step())
        {
        }

        Reset();
    }

    public void Reset() => Check(raw.sqlite3_reset(statement));

    public bool IsNull(int column) => raw.sqlite3_column_type(statement, column) == raw.SQLITE_NULL;

    public long GetInt64(int column) => raw.sqlite3_column_int64(statement, column);

    public double GetDouble(int column) => raw.sqlite3_column_double(statement, column);

    /// <summary>
    /// The bytes of a BLOB column, or the UTF-8 bytes of a TEXT column, without a copy. Valid until
    /// the next <see cref="Step"/>, <see cref="Reset"/> or <see cref="Dispose"/>.
    /// </summary>
    public ReadOnlySpan<byte> GetBytes(int column) => raw.sqlite3_column_blob(statement, column);

    public void Dispose() => statement.Dispose();

    private void Check(int result) => SqliteException.ThrowExceptionForRC(result, database);
}
