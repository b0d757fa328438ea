using System.Text.RegularExpressions;
using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.Speed;
using LambdaStats.Modules.Speed.Contracts;
using LambdaStats.Modules.View.Contracts;
using Microsoft.Extensions.Options;

namespace LambdaStats.Web.Hosting;

/// <summary>
/// Runs the web host. A failure to start (a wrong setting, a data directory in use) becomes a
/// short message on the error output and exit code 1. Without it, the exception would abort the
/// process with a stack trace.
/// </summary>
public static partial class ServiceRunner
{
    /// <summary>Exit code when the service could not start or stopped on an error.</summary>
    public const int FailureExitCode = 1;

    /// <summary>
    /// Composes the web host from <paramref name="args"/> and the settings; returns null after
    /// writing the reason to <paramref name="error"/> when a setting read during composition
    /// (such as <c>Hosting:RunJobServer</c>) cannot be read.
    /// </summary>
    public static WebApplication? TryBuild(string[] args, TextWriter error)
    {
        try
        {
            var builder = WebApplication.CreateBuilder(args);
            builder.AddLambdaStats();
            var app = builder.Build();
            app.MapLambdaStats();
            return app;
        }
        catch (Exception exception) when (exception is not HostAbortedException)
        {
            // HostAbortedException is how the test host stops the entry point once it has the host.
            error.WriteLine(Describe(exception));
            return null;
        }
    }

    /// <summary>
    /// Validates every setting registered for validation at start, then runs
    /// <paramref name="app"/> until it stops, and returns the process exit code.
    /// </summary>
    /// <remarks>
    /// The settings are validated before the host starts, so a wrong value stops the process
    /// before it opens a database or rebuilds the speed layer. Failures that only show while the
    /// host starts are reported the same way, after the host's own error log.
    /// </remarks>
    public static async Task<int> RunAsync(WebApplication app, TextWriter error, CancellationToken cancellationToken = default)
    {
        // Read before the run: once it ends, the host has disposed its services.
        var started = app.Lifetime.ApplicationStarted;
        var stopping = app.Lifetime.ApplicationStopping;
        var shutdownTimeout = app.Services.GetService<IOptions<HostOptions>>()?.Value.ShutdownTimeout;
        ISpeedLayer? speed = null;
        try
        {
            app.Services.GetService<IStartupValidator>()?.Validate();

            // The catalogue is read from the settings when first resolved. Resolving it here
            // reports an invalid aggregation before any database opens, and without the host's
            // error log and its stack trace.
            app.Services.GetService<AggregationCatalog>();

            // Opening the stores here, before the host starts, reports a data directory in use
            // or not writable without the host's own error log and its stack trace.
            app.Services.GetService<IEventStore>();
            app.Services.GetService<IViewStore>();

            // The speed layer checks its scratch directory when the host starts, too late to
            // report it without the host's error log. Checked once the stores are open, a data
            // directory that cannot be written is reported as such, not as its speed folder.
            SpeedModule.EnsureScratchDirectoryWritable(app.Services);
            speed = app.Services.GetService<ISpeedLayer>();
            await app.RunAsync(cancellationToken).ConfigureAwait(false);

            // A failed rebuild of the speed layer stops the host, which then ends as after a
            // normal stop. It is a failed start, so it gets the same message and exit code.
            if (speed?.RebuildFailure is { } failure)
            {
                await error.WriteLineAsync(Describe(failure)).ConfigureAwait(false);
                return FailureExitCode;
            }

            return 0;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return 0;
        }
        catch (OperationCanceledException) when (speed?.RebuildFailure is not null)
        {
            // The rebuild failed while the host was still starting, which cancels the start.
            await error.WriteLineAsync(Describe(speed.RebuildFailure)).ConfigureAwait(false);
            return FailureExitCode;
        }
        catch (OperationCanceledException) when (started.IsCancellationRequested && stopping.IsCancellationRequested)
        {
            // The host ran and was asked to stop, but some work outlived the shutdown timeout.
            // That is not a failure to start, and the work that was cut off is redone later.
            await error.WriteLineAsync($"LambdaStats stopped, but some work did not end within the shutdown timeout ({shutdownTimeout:g}) and was abandoned; uncommitted batch work is computed again by the next run.").ConfigureAwait(false);
            return 0;
        }
        catch (Exception exception)
        {
            await error.WriteLineAsync(Describe(exception)).ConfigureAwait(false);
            return FailureExitCode;
        }
    }

    /// <summary>
    /// One line per distinct message of <paramref name="exception"/> and its inner exceptions,
    /// without stack traces; each failure of a validation gets its own line.
    /// </summary>
    internal static string Describe(Exception exception)
    {
        // The configuration binder reports an empty or blank value through its converter, whose
        // inner errors ("Index was outside the bounds of the array.") do not name the setting.
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (EmptySettingMessage().Match(current.Message) is { Success: true } empty)
            {
                return $"LambdaStats could not start: {empty.Groups["key"].Value} is empty or blank; set {DescribeValue(empty.Groups["type"].Value)}, or remove the setting to use its default.";
            }
        }

        var lines = new List<string>();
        for (var current = exception; current is not null; current = current.InnerException)
        {
            IEnumerable<string> messages = current is OptionsValidationException validation ? validation.Failures : [current.Message];
            foreach (var message in messages)
            {
                if (!lines.Any(line => line.Contains(message, StringComparison.Ordinal)))
                {
                    lines.Add(lines.Count == 0 ? $"LambdaStats could not start: {message}" : $"  caused by: {message}");
                }
            }
        }

        return string.Join(Environment.NewLine, lines);
    }

    /// <summary>Names the kind of value that a setting of the .NET type <paramref name="typeName"/> takes.</summary>
    private static string DescribeValue(string typeName) => typeName switch
    {
        "System.Int32" or "System.Int64" => "a whole number",
        "System.Double" => "a number",
        "System.Boolean" => "true or false",
        "System.TimeSpan" => "a duration such as 00:05:00",
        _ => $"a value of type {typeName}",
    };

    [GeneratedRegex(@"^Failed to convert configuration value '\s*' at '(?<key>[^']+)' to type '(?<type>[^']+)'\.$")]
    private static partial Regex EmptySettingMessage();
}
