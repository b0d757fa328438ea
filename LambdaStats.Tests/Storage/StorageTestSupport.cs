using System.Collections;
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
