using System.CommandLine;
using LambdaStats.Modules.Events.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Spectre.Console;

namespace LambdaStats.Web.Cli;

/// <summary>
/// Runs the subcommands of the service's executable. <see cref="TryRunAsync(string[], Func{IServiceProvider}?, CancellationToken)"/>
/// returns null when the arguments name no subcommand and ask for no help, so the caller starts the
/// web host instead.
/// </summary>
public static class CliEntryPoint
{
    /// <summary>Exit code for invalid arguments or options.</summary>
    public const int UsageErrorExitCode = 2;

    /// <summary>Options that print the executable's help instead of starting the service.</summary>
    private static readonly string[] HelpOptions = ["--help", "-h", "-?"];

    /// <summary>Checks whether the first argument names a subcommand or one of <see cref="HelpOptions"/>.</summary>
    public static bool IsCommandLineRun(IReadOnlyList<string> args) =>
        args.Count > 0 && (args[0] == ImportCommand.Name || HelpOptions.Contains(args[0], StringComparer.Ordinal));

    /// <summary>
    /// Runs the subcommand named by <c>args[0]</c>, or prints the help when <c>args[0]</c> is a help option,
    /// and returns the exit code; returns null when <c>args[0]</c> is neither.
    /// </summary>
    /// <param name="args">The process arguments.</param>
    /// <param name="localServices">
    /// Returns a service provider that resolves <see cref="IEventIngestor"/>, called only for an
    /// import without <c>--url</c>. Null when this process has no local event store.
    /// </param>
    /// <param name="cancellationToken">Stops the command. Ctrl+C and SIGTERM also stop it.</param>
    public static async Task<int?> TryRunAsync(string[] args, Func<IServiceProvider>? localServices, CancellationToken cancellationToken = default)
    {
        if (!IsCommandLineRun(args))
        {
            return null;
        }

        var time = TimeProvider.System;
        var console = AnsiConsole.Console;
        var showProgressBar = !Console.IsOutputRedirected && console.Profile.Capabilities.Interactive;
        using var loggerFactory = LoggerFactory.Create(logging =>
        {
            logging.SetMinimumLevel(LogLevel.Information);
            if (showProgressBar)
            {
                logging.AddProvider(new AnsiConsoleLoggerProvider(console, LogLevel.Information));
            }
            else
            {
                logging
                    .AddConsole(options => options.LogToStandardErrorThreshold = LogLevel.Trace)
                    .AddSimpleConsole(options => options.SingleLine = true);
            }
        });
        using var httpClient = new HttpClient();
        var services = new ImportCommandServices
        {
            Time = time,
            Output = Console.Out,
            Console = console,
            Error = Console.Error,
            ShowProgressBar = showProgressBar,
            LoggerFactory = loggerFactory,
            CreateHttpTarget = url => new HttpImportTarget(httpClient, url, time, loggerFactory.CreateLogger<HttpImportTarget>()),
            CreateLocalTarget = localServices is null
                ? null
                : () => new LocalImportTarget(localServices().GetRequiredService<IEventIngestor>()),
        };
        var configuration = new InvocationConfiguration { Output = Console.Out, Error = Console.Error };
        return await RunAsync(args, services, configuration, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Parses and runs <paramref name="args"/>, mapping parse errors to <see cref="UsageErrorExitCode"/>.</summary>
    internal static async Task<int?> RunAsync(string[] args, ImportCommandServices services, InvocationConfiguration configuration, CancellationToken cancellationToken)
    {
        if (!IsCommandLineRun(args))
        {
            return null;
        }

        var root = new RootCommand("LambdaStats audience statistics. Without a subcommand, this executable runs the web service.")
        {
            ImportCommand.Create(services),
        };
        var parseResult = root.Parse(args);

        // On a parse error, InvokeAsync prints the errors and the help and returns 1. Usage errors
        // get their own exit code so that scripts can tell them from a failed import.
        var exitCode = await parseResult.InvokeAsync(configuration, cancellationToken).ConfigureAwait(false);
        return parseResult.Errors.Count > 0 ? UsageErrorExitCode : exitCode;
    }
}
