using System.Collections;
using LambdaStats.Modules.Common;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.Storage.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace LambdaStats.Tests.Storage;

/// <summary>A fresh directory under the system temporary directory, deleted on dispose.</summary>
internal sealed class TemporaryDirectory : IDisposable
{
    public TemporaryDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "lambdastats-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public IOptions<SqliteStorageOptions> Options(string? subdirectory = null) =>
        Microsoft.Extensions.Options.Options.Create(new SqliteStorageOptions
        {
            DataDirectory = subdirectory is null ? Path : System.IO.Path.Combine(Path, subdirectory),
        });

    public SqliteEventStore OpenEventStore(ILogger<SqliteEventStore>? logger = null) =>
        new(Options(), logger ?? NullLogger<SqliteEventStore>.Instance);

    public SqliteViewStore OpenViewStore() => new(Options(), NullLogger<SqliteViewStore>.Instance);

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}

/// <summary>A list that cancels a token when an enumeration reaches <c>cancelAtIndex</c>, to interrupt a write part way.</summary>
internal sealed class CancellingList<T>(IReadOnlyList<T> items, int cancelAtIndex, CancellationTokenSource source) : IReadOnlyList<T>
{
    public int Count => items.Count;

    public T this[int index]
    {
        get
        {
            CancelAt(index);
            return items[index];
        }
    }

    public IEnumerator<T> GetEnumerator()
    {
        for (var i = 0; i < items.Count; i++)
        {
            CancelAt(i);
            yield return items[i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private void CancelAt(int index)
    {
        if (index == cancelAtIndex)
        {
            source.Cancel();
        }
    }
}

/// <summary>Keeps every log entry written through it.</summary>
internal sealed class RecordingLogger<T> : ILogger<T>
{
    public List<(LogLevel Level, EventId EventId, string Message)> Entries { get; } = [];

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Entries.Add((logLevel, eventId, formatter(state, exception)));
}

/// <summary>Random events around one hour, stored partly out of time order, for tests that compare two reads of the hour.</summary>
internal static class RandomHourEvents
{
    /// <summary>
    /// Appends events of the hour, of the hours around it and of several types, in chunks out of
    /// time order, so that late events of the hour come after events of the next hour.
    /// </summary>
    public static async Task<long> AppendAsync(IEventStore store, UtcHour hour, EventType[] types, Random random)
    {
        var count = random.Next(50, 400);
        var events = new List<LambdaEvent>();
        for (var i = 0; i < count; i++)
        {
            var offset = random.Next(10) switch
            {
                0 => -random.Next(1, 3600),
                1 => 3600 + random.Next(3600),
                _ => random.Next(3600),
            };
            var occurredAt = hour.Start.AddSeconds(offset).AddTicks(random.Next(10_000_000));
            events.Add(new LambdaEvent
            {
                Id = $"e{i}",
                Type = types[random.Next(types.Length)],
                OccurredAt = occurredAt,
                HubId = $"hub-{random.Next(8)}",
                MediaId = random.Next(4) == 0 ? null : $"media-{random.Next(20)}",
                VisitorId = random.Next(3) == 0 ? null : $"visitor-{random.Next(50)}",
                SessionId = random.Next(2) == 0 ? null : $"session-{random.Next(1000)}",
                Page = random.Next(3) == 0 ? null : random.Next(1, 40),
                DurationSeconds = random.Next(3) == 0 ? null : random.Next(10_000) / 10.0,
                Network = random.Next(2) == 0 ? null : "x",
                ContactKind = random.Next(2) == 0 ? null : "email",
            });
        }

        // Sorting most of the events by time, then appending a few stragglers at the end, spreads
        // the hour's sequences around those of the next hour.
        var late = events.Where(_ => random.Next(8) == 0).ToList();
        var inOrder = events.Except(late).OrderBy(e => e.OccurredAt).ToList();
        foreach (var chunk in inOrder.Concat(late).Chunk(random.Next(1, 40)))
        {
            await store.AppendAsync(chunk, CancellationToken.None);
        }

        return await store.GetMaxSequenceAsync(CancellationToken.None);
    }
}

/// <summary>SQLite's query plan of a statement, for tests that check which index it uses.</summary>
internal static class QueryPlans
{
    /// <summary>Returns the detail column of <c>EXPLAIN QUERY PLAN</c>, one line per step, with every parameter bound to 1.</summary>
    public static string Explain(Microsoft.Data.Sqlite.SqliteConnection connection, string sql, params string[] parameters)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + sql;
        foreach (var parameter in parameters)
        {
            command.Parameters.AddWithValue(parameter, 1L);
        }

        var lines = new List<string>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            lines.Add(reader.GetString(3));
        }

        return string.Join(Environment.NewLine, lines);
    }
}
