using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace LambdaStats.Web.Cli;

/// <summary>
/// Writes log entries through a Spectre.Console console, one line each. While a progress bar is
/// live, Spectre.Console prints such lines above the bar, whereas the standard console logger
/// writes to standard error and breaks the bar's redrawing.
/// </summary>
internal sealed class AnsiConsoleLoggerProvider(IAnsiConsole console, LogLevel minimumLevel) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new AnsiConsoleLogger(console, minimumLevel);

    public void Dispose()
    {
    }

    private sealed class AnsiConsoleLogger(IAnsiConsole console, LogLevel minimumLevel) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && logLevel >= minimumLevel;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            var (label, style) = logLevel switch
            {
                LogLevel.Trace => ("trce", Style.Plain),
                LogLevel.Debug => ("dbug", Style.Plain),
                LogLevel.Information => ("info", Style.Plain),
                LogLevel.Warning => ("warn", new Style(Color.Yellow)),
                LogLevel.Error => ("fail", new Style(Color.Red)),
                _ => ("crit", new Style(Color.Red)),
            };
            var text = $"{label}: {formatter(state, exception)}";
            if (exception is not null)
            {
                text += Environment.NewLine + exception;
            }

            console.WriteLine(text, style);
        }
    }
}
