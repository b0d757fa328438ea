using LambdaStats.Modules.Storage.Sqlite;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace LambdaStats.Modules.Aggregation.Columns;

/// <summary>
/// One scratch SQLite file of the speed layer, open in one transaction that is never committed,
/// and deleted on <see cref="Dispose"/>.
/// </summary>
/// <remarks>
/// The file contains state that a restart rebuilds from the event store, so it needs neither a
/// journal nor syncs to disk. The page cache is small because the point of the file is to keep
/// the pairs out of the process memory. The operating system's file cache serves most reads.
/// Not thread-safe, so the speed buffer's lock covers every call.
/// A column whose first copy into a new file fails keeps its pairs in memory.
/// NOTE: a write that fails later (a disk that fills up) throws from <see cref="SpeedBuffer.Add"/>
/// after the events were stored, so the buffer misses them until the batch covers their hour or
/// a restart rebuilds it.
/// </remarks>
internal sealed class ScratchDatabase : IDisposable
{
    // Page cache of each file, in KiB. The cache_size pragma reads a negative value as KiB.
    private const int CacheKibibytes = 32768;

    private readonly SqliteConnection connection;
    private readonly List<SqliteRawStatement> statements = [];
    private bool disposed;

    private ScratchDatabase(SqliteConnection connection, string path)
    {
        this.connection = connection;
        Path = path;
    }

    public string Path { get; }

    /// <summary>Number of rows that the last INSERT, UPDATE or DELETE changed.</summary>
    public int Changes => raw.sqlite3_changes(connection.Handle);

    /// <summary>Rowid of the last row that an INSERT added on this connection.</summary>
    public long LastInsertRowId => raw.sqlite3_last_insert_rowid(connection.Handle);

    /// <exception cref="InvalidOperationException">The file cannot be created or written. The message names the path.</exception>
    public static ScratchDatabase Create(string path, string schema)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
        }.ToString());
        try
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText =
                $"PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA locking_mode = EXCLUSIVE; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -{CacheKibibytes}; {schema}; BEGIN;";
            command.ExecuteNonQuery();
            return new ScratchDatabase(connection, path);
        }
        catch (SqliteException exception)
        {
            connection.Dispose();
            DeleteFile(path);
            throw new InvalidOperationException(
                $"Failed to create the speed layer's scratch file '{path}': {exception.Message} "
                + $"Check that the directory set by {SqliteStorageOptions.DataDirectoryKey} is writable and has free space.",
                exception);
        }
    }

    /// <summary>Prepares <paramref name="sql"/>. <see cref="Dispose"/> finalizes the statement.</summary>
    public SqliteRawStatement Prepare(string sql)
    {
        var statement = new SqliteRawStatement(connection, sql);
        statements.Add(statement);
        return statement;
    }

    /// <summary>Closes the file without committing, and deletes it.</summary>
    public void Dispose()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        foreach (var statement in statements)
        {
            statement.Dispose();
        }

        connection.Dispose();
        DeleteFile(Path);
    }

    private static void DeleteFile(string path)
    {
        File.Delete(path);
        File.Delete(path + "-journal");
    }
}
