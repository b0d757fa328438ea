using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace LambdaStats.Modules.Storage.Sqlite;

/// <summary>Value of SQLite's <c>PRAGMA synchronous</c> for the writer connection.</summary>
internal enum SqliteSynchronous
{
    /// <summary>
    /// In WAL mode, a commit survives a crash or kill of the process, but the last commits can be
    /// lost when the operating system crashes or the power fails.
    /// </summary>
    Normal,

    /// <summary>In WAL mode, every commit is synced to disk before it returns.</summary>
    Full,
}

/// <summary>
/// Brings a database file written with an older schema version to the current one, inside the
/// transaction that then runs the schema script.
/// </summary>
/// <param name="storedVersion">The file's version, from 1 to one below the current version.</param>
internal delegate void SqliteSchemaUpgrade(SqliteConnection connection, SqliteTransaction transaction, long storedVersion, string filePath);

/// <summary>
/// One SQLite database file in WAL mode: a single long-lived writer connection, guarded by
/// <see cref="WriteLock"/>, and pooled reader connections. WAL lets readers run while a writer
/// commits, and every reader sees the last commit made before its statement started.
/// </summary>
/// <remarks>
/// Microsoft.Data.Sqlite runs its async ADO.NET methods synchronously (documented in "Async
/// limitations" of Microsoft.Data.Sqlite), so callers use the synchronous methods.
/// </remarks>
internal sealed class SqliteDatabase : IDisposable
{
    private readonly string readerConnectionString;
    private readonly SqliteConnection writer;
    private readonly FileStream ownerLock;

    private SqliteDatabase(string filePath, string readerConnectionString, SqliteConnection writer, FileStream ownerLock)
    {
        FilePath = filePath;
        this.readerConnectionString = readerConnectionString;
        this.writer = writer;
        this.ownerLock = ownerLock;
    }

    public string FilePath { get; }

    /// <summary>Serializes every use of <see cref="Writer"/>.</summary>
    public SemaphoreSlim WriteLock { get; } = new(1, 1);

    /// <summary>The only connection that writes. Use it only while holding <see cref="WriteLock"/>.</summary>
    public SqliteConnection Writer => writer;

    /// <summary>
    /// Creates the data directory when missing, opens (or creates) <paramref name="fileName"/> in
    /// it, switches it to WAL mode and runs <paramref name="schema"/>, which must be idempotent.
    /// A file of an older schema version goes through <paramref name="upgrade"/> first, when given.
    /// </summary>
    /// <exception cref="InvalidOperationException">
    /// The directory cannot be created, the file cannot be opened or written, or it has another
    /// schema version. The message names the path and the setting to fix.
    /// </exception>
    public static SqliteDatabase Open(
        SqliteStorageOptions options,
        string fileName,
        string storeName,
        int schemaVersion,
        string schema,
        SqliteSynchronous synchronous,
        ILogger logger,
        SqliteSchemaUpgrade? upgrade = null)
    {
        var directory = options.ResolveDataDirectory();
        CreateDirectory(directory);

        var filePath = Path.Combine(directory, fileName);
        var ownerLock = LockOwner(filePath, storeName);
        var writerConnectionString = new SqliteConnectionStringBuilder
        {
            DataSource = filePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
        }.ToString();
        var readerConnectionString = new SqliteConnectionStringBuilder
        {
            DataSource = filePath,
            Mode = SqliteOpenMode.ReadWrite,
            Pooling = true,
        }.ToString();

        var writer = new SqliteConnection(writerConnectionString);
        try
        {
            writer.Open();
            Initialize(writer, filePath, storeName, schemaVersion, schema, synchronous, upgrade);
        }
        catch (SqliteException exception)
        {
            writer.Dispose();
            ownerLock.Dispose();
            throw new InvalidOperationException(
                $"Failed to open the {storeName} database '{filePath}': {exception.Message} "
                + $"Check that the directory set by {SqliteStorageOptions.DataDirectoryKey} is writable and that the file is a SQLite database.",
                exception);
        }
        catch
        {
            writer.Dispose();
            ownerLock.Dispose();
            throw;
        }

        SqliteStorageLog.DatabaseOpened(logger, storeName, filePath);
        return new SqliteDatabase(filePath, readerConnectionString, writer, ownerLock);
    }

    /// <summary>Opens a pooled connection for reading. The caller disposes it.</summary>
    public SqliteConnection OpenReader()
    {
        var connection = new SqliteConnection(readerConnectionString);
        connection.Open();
        return connection;
    }

    public void Dispose()
    {
        writer.Dispose();

        // Pooled reader connections keep the file open after they are returned to the pool.
        using var pooled = new SqliteConnection(readerConnectionString);
        SqliteConnection.ClearPool(pooled);
        ownerLock.Dispose();
    }

    /// <summary>
    /// Opens <c>FILE.lock</c> beside the database without sharing, so that a second process (a
    /// second service, or a local import while the service runs) stops with a clear message
    /// instead of writing events that the running service would not see until its next batch.
    /// </summary>
    /// <remarks>
    /// .NET takes an advisory <c>flock</c> on Unix for <see cref="FileShare.None"/>, so the lock
    /// ends with the process, even after a kill, and the lock file can stay on disk.
    /// </remarks>
    private static FileStream LockOwner(string filePath, string storeName)
    {
        var lockPath = filePath + ".lock";
        try
        {
            return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException exception) when (IsLockConflict(exception))
        {
            throw new InvalidOperationException(
                $"The {storeName} database '{filePath}' is in use by another process (lock file '{lockPath}'). "
                + "Stop the other LambdaStats process, or send an import to the running service with --url.",
                exception);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException(
                $"Failed to create the lock file '{lockPath}': {exception.Message} "
                + $"Set {SqliteStorageOptions.DataDirectoryKey} to a writable directory.",
                exception);
        }
    }

    /// <summary>
    /// Whether <paramref name="exception"/> means that another open file holds the lock: EWOULDBLOCK
    /// (11) on Linux, a sharing violation on Windows. A read-only or full disk gives other codes.
    /// </summary>
    private static bool IsLockConflict(IOException exception) =>
        exception.HResult is 11 or unchecked((int)0x80070020) or unchecked((int)0x80070021);

    private static void CreateDirectory(string directory)
    {
        try
        {
            Directory.CreateDirectory(directory);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException(
                $"Failed to create the data directory '{directory}': {exception.Message} "
                + $"Set {SqliteStorageOptions.DataDirectoryKey} to a writable directory.",
                exception);
        }
    }

    private static void Initialize(SqliteConnection connection, string filePath, string storeName, int schemaVersion, string schema, SqliteSynchronous synchronous, SqliteSchemaUpgrade? upgrade)
    {
        // SQLite stores journal_mode=WAL in the file. The synchronous setting applies to this
        // connection only, which is the only one that writes.
        using (var journalMode = connection.CreateCommand())
        {
            // SQLite returns the journal mode in force, which stays the old one when it cannot switch.
            journalMode.CommandText = "PRAGMA journal_mode = WAL;";
            var mode = journalMode.ExecuteScalar() as string;
            if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException(
                    $"Failed to switch the {storeName} database '{filePath}' to WAL mode; it stays in mode '{mode}'. "
                    + $"Check that the directory set by {SqliteStorageOptions.DataDirectoryKey} is writable and on a local file system.");
            }
        }

        Execute(connection, synchronous == SqliteSynchronous.Full ? "PRAGMA synchronous = FULL;" : "PRAGMA synchronous = NORMAL;");

        using var transaction = connection.BeginTransaction();
        var storedVersion = ReadUserVersion(connection, transaction);
        if (upgrade is not null && storedVersion > 0 && storedVersion < schemaVersion)
        {
            upgrade(connection, transaction, storedVersion, filePath);
        }
        else if (storedVersion != 0 && storedVersion != schemaVersion)
        {
            throw new InvalidOperationException(
                $"The {storeName} database '{filePath}' has schema version {storedVersion}, but this build reads version {schemaVersion}. "
                + $"Point {SqliteStorageOptions.DataDirectoryKey} to a directory written by this version.");
        }

        Execute(connection, schema, transaction);
        Execute(connection, $"PRAGMA user_version = {schemaVersion};", transaction);
        transaction.Commit();
    }

    private static long ReadUserVersion(SqliteConnection connection, SqliteTransaction transaction)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "PRAGMA user_version;";
        return (long)command.ExecuteScalar()!;
    }

    private static void Execute(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
