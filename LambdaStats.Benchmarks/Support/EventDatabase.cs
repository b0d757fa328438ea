using Microsoft.Data.Sqlite;

namespace LambdaStats.Benchmarks.Support;

/// <summary>Read-only checks on an <c>events.db</c> written by the service.</summary>
internal static class EventDatabase
{
    public static long CountEvents(string dataDirectory)
    {
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(dataDirectory, "events.db"),
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
        };
        using var connection = new SqliteConnection(builder.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM events;";
        return (long)command.ExecuteScalar()!;
    }
}
