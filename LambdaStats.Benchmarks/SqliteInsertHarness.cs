using System.Diagnostics;
using LambdaStats.Benchmarks.Support;
using LambdaStats.Modules.Events.Contracts;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace LambdaStats.Benchmarks;

/// <summary>
/// <c>sqlite-insert</c>: what SQLite itself costs per inserted row on this machine, below the
/// event store: a one-integer row in memory, and rows of the real <c>events</c> table (created by
/// <see cref="IEventStore"/>'s schema) inserted one per statement and 32 per statement, bound by
/// position through SQLitePCLRaw, 1,000 rows per transaction, with the settings of the store's writer.
/// </summary>
internal static class SqliteInsertHarness
{
    private const string Columns = "id, type, occurred_ticks, hour, hub_id, media_id, visitor_id, session_id, page, duration_seconds, network, contact_kind, properties";

    public static async Task<int> RunAsync(Options options)
    {
        var rows = options.PositiveInt("rows", 200_000);
        Console.WriteLine(FormattableString.Invariant($"one INTEGER column, in memory: {MeasureIntegerRows(rows):F2} µs per row"));
        foreach (var rowsPerStatement in new[] { 1, 32 })
        {
            var directory = RepositoryPaths.CreateWorkDirectory("lambdastats-sqlite-insert", options.OptionalString("work-dir"));
            try
            {
                // Opening the event store creates events.db with its schema and indexes.
                await using (var host = new ModuleHost(directory, TimeProvider.System))
                {
                    host.Get<IEventStore>();
                }

                var perRow = MeasureEventRows(Path.Combine(directory, "events.db"), rows, rowsPerStatement);
                Console.WriteLine(FormattableString.Invariant($"events table, {rowsPerStatement} row(s) per INSERT, file in WAL mode: {perRow:F2} µs per row"));
            }
            finally
            {
                SqliteConnection.ClearAllPools();
                Directory.Delete(directory, recursive: true);
            }
        }

        return 0;
    }

    private static double MeasureIntegerRows(int rows)
    {
        using var connection = new SqliteConnection("Data Source=:memory:");
        connection.Open();
        Execute(connection, "CREATE TABLE numbers (value INTEGER); BEGIN;");
        raw.sqlite3_prepare_v2(connection.Handle, "INSERT INTO numbers VALUES (?1);", out var insert);
        using (insert)
        {
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < rows; i++)
            {
                raw.sqlite3_bind_int(insert, 1, i);
                Step(connection, insert);
            }

            return clock.Elapsed.TotalMicroseconds / rows;
        }
    }

    private static double MeasureEventRows(string path, int rows, int rowsPerStatement)
    {
        using var connection = new SqliteConnection($"Data Source={Path.GetFullPath(path)};Pooling=False");
        connection.Open();
        Execute(connection, "PRAGMA synchronous = NORMAL;");

        // As on the event store's writer: statement journals stay in memory, never in a temporary file.
        Execute(connection, "PRAGMA temp_store = MEMORY;");
        var values = string.Join(", ", Enumerable.Range(0, rowsPerStatement).Select(r => "(" + string.Join(", ", Enumerable.Range(1, 13).Select(c => $"?{r * 13 + c}")) + ")"));
        raw.sqlite3_prepare_v2(connection.Handle, $"INSERT INTO events ({Columns}) VALUES {values};", out var insert);
        using (insert)
        {
            var ticks = DateTimeOffset.UtcNow.UtcTicks;
            var clock = Stopwatch.StartNew();
            var written = 0;
            while (written < rows)
            {
                Execute(connection, "BEGIN;");
                for (var statement = 0; statement < 1_000 / rowsPerStatement; statement++)
                {
                    for (var row = 0; row < rowsPerStatement; row++, written++)
                    {
                        var offset = row * 13;
                        raw.sqlite3_bind_text(insert, offset + 1, $"sqlite-insert-{written:D12}");
                        raw.sqlite3_bind_int(insert, offset + 2, (int)EventType.PageViewed + written % 3);
                        raw.sqlite3_bind_int64(insert, offset + 3, ticks);
                        raw.sqlite3_bind_int64(insert, offset + 4, ticks / TimeSpan.TicksPerHour);
                        raw.sqlite3_bind_text(insert, offset + 5, $"hub-{written % 100:D4}");
                        raw.sqlite3_bind_text(insert, offset + 6, $"media-{written % 10_000:D6}");
                        raw.sqlite3_bind_text(insert, offset + 7, "visitor-12345");
                        raw.sqlite3_bind_null(insert, offset + 8);
                        raw.sqlite3_bind_int(insert, offset + 9, 1 + written % 40);
                        raw.sqlite3_bind_double(insert, offset + 10, 12.5);
                        raw.sqlite3_bind_null(insert, offset + 11);
                        raw.sqlite3_bind_null(insert, offset + 12);
                        raw.sqlite3_bind_null(insert, offset + 13);
                    }

                    Step(connection, insert);
                }

                Execute(connection, "COMMIT;");
            }

            return clock.Elapsed.TotalMicroseconds / written;
        }
    }

    private static void Step(SqliteConnection connection, sqlite3_stmt statement)
    {
        var result = raw.sqlite3_step(statement);
        SqliteException.ThrowExceptionForRC(result == raw.SQLITE_DONE ? raw.SQLITE_OK : result, connection.Handle);
        raw.sqlite3_reset(statement);
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
