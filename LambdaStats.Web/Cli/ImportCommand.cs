using System.CommandLine;
using System.Globalization;
using LambdaStats.Modules.Events.Import;
using LambdaStats.Web.Endpoints;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace LambdaStats.Web.Cli;

/// <summary>Dependencies of the import command, which tests replace with fakes.</summary>
internal sealed class ImportCommandServices
{
    public required TimeProvider Time { get; init; }

    /// <summary>Standard output, for plain progress lines and the summary.</summary>
    public required TextWriter Output { get; init; }

    /// <summary>
    /// Console for the progress bar, on the same stream as <see cref="Output"/>. Plain text goes
    /// to <see cref="Output"/> because Spectre.Console wraps lines at its console width.
    /// </summary>
    public required IAnsiConsole Console { get; init; }

    /// <summary>Standard error, for failures.</summary>
    public required TextWriter Error { get; init; }

    /// <summary>Shows a redrawn progress bar when true, and a plain line every <see cref="PlainProgressInterval"/> when false.</summary>
    public required bool ShowProgressBar { get; init; }

    public required ILoggerFactory LoggerFactory { get; init; }

    /// <summary>Creates the target for <c>--url</c>.</summary>
    public required Func<Uri, IImportTarget> CreateHttpTarget { get; init; }

    /// <summary>Creates the target used without <c>--url</c>, or null when this process has no local event store.</summary>
    public Func<IImportTarget>? CreateLocalTarget { get; init; }

    public TimeSpan PlainProgressInterval { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>Validated options of one import run.</summary>
internal sealed record ImportSettings(string FilePath, ImportFormat Format, Uri? ServiceUrl, double? ReplaySpeed, int BatchSize);

/// <summary>
/// Builds the <c>import FILE [--format clf|jsonl] [--url URL] [--replay-speed N] [--batch-size N]</c>
/// command, which loads an access log or a JSON Lines file of events into LambdaStats.
/// </summary>
/// <remarks>
/// Exit codes: 0 when the import ran to its end, even with skipped or rejected lines; 1 when the
/// file cannot be read or the target failed; 2 for usage errors, including a missing <c>--url</c>
/// when this executable has no local event store;
/// 130 when cancelled with Ctrl+C.
/// </remarks>
internal static partial class ImportCommand
{
    public const string Name = "import";
    public const int DefaultBatchSize = 5_000;
    public const int SuccessExitCode = 0;
    public const int FailureExitCode = 1;
    public const int CancelledExitCode = 130;

    public static Command Create(ImportCommandServices services)
    {
        var fileArgument = new Argument<string>("FILE")
        {
            Description = "Path of the file to import, plain or gzip-compressed (.gz or gzip content).",
        };

        var formatOption = new Option<string?>("--format")
        {
            Description = "File format: clf for NCSA Common or Combined Log Format, jsonl for one JSON event per line. "
                + "Default: jsonl for names ending in .jsonl or .ndjson (optionally followed by .gz), clf otherwise.",
            HelpName = "clf|jsonl",
        };
        formatOption.AcceptOnlyFromAmong("clf", "jsonl");

        var urlOption = new Option<string?>("--url")
        {
            Description = "Base URL of a running LambdaStats service, such as http://127.0.0.1:5000. Events are posted to URL/api/events. "
                + "Without it, events go into the event store configured for this executable.",
            HelpName = "URL",
        };
        urlOption.Validators.Add(result =>
        {
            var text = result.GetValueOrDefault<string?>();
            if (text is not null && !TryParseServiceUrl(text, out _))
            {
                result.AddError($"--url must be an absolute http or https URL, such as http://127.0.0.1:5000, got '{text}'.");
            }
        });

        var replaySpeedOption = new Option<double?>("--replay-speed")
        {
            Description = "Replays events in event-time order, with event time running N times faster than wall time "
                + "(1 is real time, 60 plays an hour in a minute). Requires --url. Default: send as fast as possible.",
            HelpName = "N",

            // A custom parser reports a value that is not a number with the same message as a
            // number out of range. Validators cannot, because reading the value throws then.
            CustomParser = result =>
            {
                var text = LastToken(result);
                if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var speed) && speed > 0 && double.IsFinite(speed))
                {
                    return speed;
                }

                result.AddError($"--replay-speed must be a number greater than 0, got '{text}'.");
                return null;
            },
        };

        var batchSizeOption = new Option<int>("--batch-size")
        {
            Description = "Maximum number of events per request.",
            HelpName = "N",
            DefaultValueFactory = _ => DefaultBatchSize,
            CustomParser = result =>
            {
                var text = LastToken(result);
                if (text is null)
                {
                    return DefaultBatchSize;
                }

                if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var size) && size is >= 1 and <= EventEndpoints.MaxEvents)
                {
                    return size;
                }

                result.AddError($"--batch-size must be a whole number from 1 to {EventEndpoints.MaxEvents}, the maximum number of events per request, got '{text}'.");
                return DefaultBatchSize;
            },
        };

        var command = new Command(Name, "Import an access log or a JSON Lines file of events.")
        {
            fileArgument,
            formatOption,
            urlOption,
            replaySpeedOption,
            batchSizeOption,
        };
        command.Validators.Add(result =>
        {
            // GetResult only checks presence. GetValue would throw when a value failed to convert.
            if (result.GetResult(replaySpeedOption) is not null && result.GetResult(urlOption) is null)
            {
                result.AddError("--replay-speed requires --url, because a replay sends events to a running service over HTTP.");
            }
        });

        command.SetAction((parseResult, cancellationToken) =>
        {
            var filePath = parseResult.GetRequiredValue(fileArgument);
            var format = parseResult.GetValue(formatOption) switch
            {
                "clf" => ImportFormat.Clf,
                "jsonl" => ImportFormat.Jsonl,
                _ => InferFormat(filePath),
            };
            Uri? serviceUrl = null;
            if (parseResult.GetValue(urlOption) is { } urlText)
            {
                TryParseServiceUrl(urlText, out serviceUrl);
            }

            var settings = new ImportSettings(
                filePath,
                format,
                serviceUrl,
                parseResult.GetValue(replaySpeedOption),
                parseResult.GetValue(batchSizeOption));
            return RunAsync(settings, services, cancellationToken);
        });
        return command;
    }

    private static string? LastToken(System.CommandLine.Parsing.ArgumentResult result) =>
        result.Tokens.Count > 0 ? result.Tokens[^1].Value : null;

    /// <summary>Returns <see cref="ImportFormat.Jsonl"/> for .jsonl and .ndjson files, with or without .gz, otherwise <see cref="ImportFormat.Clf"/>.</summary>
    public static ImportFormat InferFormat(string filePath)
    {
        var name = Path.GetFileName(filePath);
        if (name.EndsWith(".gz", StringComparison.OrdinalIgnoreCase))
        {
            name = name[..^3];
        }

        return name.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".ndjson", StringComparison.OrdinalIgnoreCase)
            ? ImportFormat.Jsonl
            : ImportFormat.Clf;
    }

    private static bool TryParseServiceUrl(string text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Uri? url) =>
        Uri.TryCreate(text, UriKind.Absolute, out url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps);

    private static async Task<int> RunAsync(ImportSettings settings, ImportCommandServices services, CancellationToken cancellationToken)
    {
        var logger = services.LoggerFactory.CreateLogger(typeof(ImportCommand).FullName!);
        if (!TryCreateTarget(settings, services, out var target, out var targetName, out var targetError))
        {
            await services.Error.WriteLineAsync(targetError).ConfigureAwait(false);

            // Without a local store, --url is required, so leaving it out is a usage error.
            return services.CreateLocalTarget is null ? CliEntryPoint.UsageErrorExitCode : FailureExitCode;
        }

        ImportSource source;
        try
        {
            source = ImportSource.Open(settings.FilePath);
        }
        catch (Exception exception) when (exception is FileNotFoundException or DirectoryNotFoundException)
        {
            await services.Error.WriteLineAsync($"Import failed: file not found: {settings.FilePath}. Check the path and run the command again.").ConfigureAwait(false);
            return FailureExitCode;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            await services.Error.WriteLineAsync($"Import failed: cannot open {settings.FilePath}: {exception.Message} Check that the file exists and is readable.").ConfigureAwait(false);
            return FailureExitCode;
        }

        await using (source.ConfigureAwait(false))
        {
            var runner = new ImportRunner(target, services.Time, settings.Format, settings.BatchSize, settings.ReplaySpeed);
            await services.Output.WriteLineAsync(Describe(settings, targetName)).ConfigureAwait(false);
            var (exitCode, failure) = await RunWithProgressAsync(runner, source, services, logger, cancellationToken).ConfigureAwait(false);
            await services.Output.WriteLineAsync(runner.Summary.Render()).ConfigureAwait(false);
            if (failure is not null)
            {
                await services.Error.WriteLineAsync(failure).ConfigureAwait(false);
            }

            return exitCode;
        }
    }

    private static bool TryCreateTarget(
        ImportSettings settings,
        ImportCommandServices services,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IImportTarget? target,
        out string targetName,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        error = null;
        if (settings.ServiceUrl is { } url)
        {
            target = services.CreateHttpTarget(url);
            targetName = url.ToString();
            return true;
        }

        targetName = "the local event store";
        if (services.CreateLocalTarget is null)
        {
            target = null;
            error = "Import failed: this executable has no local event store configured. Pass --url with the address of a running LambdaStats service.";
            return false;
        }

        try
        {
            target = services.CreateLocalTarget();
            return true;
        }
        catch (Microsoft.Extensions.Options.OptionsValidationException exception)
        {
            // A setting out of range, found before any line is read.
            target = null;
            error = $"Import failed: {string.Join(" ", exception.Failures)} Fix the setting and run the same command again.";
            return false;
        }
        catch (InvalidOperationException exception)
        {
            // Dependency injection raises InvalidOperationException for a missing or broken
            // registration, and the configuration binder for a setting that cannot be read.
            target = null;
            error = $"Import failed: the local ingestion pipeline could not be created: {exception.Message} Check the configuration, or pass --url.";
            return false;
        }
    }

    private static string Describe(ImportSettings settings, string targetName)
    {
        var pace = settings.ReplaySpeed is { } speed
            ? string.Create(CultureInfo.InvariantCulture, $"replayed at {speed}x event time")
            : string.Create(CultureInfo.InvariantCulture, $"in batches of up to {settings.BatchSize:N0}");
        return $"Importing {settings.FilePath} ({settings.Format.ToString().ToLowerInvariant()}) into {targetName}, {pace}.";
    }

    /// <summary>Runs the import and returns the exit code and, for a failed import, the message for standard error.</summary>
    private static async Task<(int ExitCode, string? Failure)> RunWithProgressAsync(
        ImportRunner runner,
        ImportSource source,
        ImportCommandServices services,
        ILogger logger,
        CancellationToken cancellationToken)
    {
        try
        {
            if (services.ShowProgressBar)
            {
                await services.Console.Progress()
                    .AutoClear(false)
                    .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                    .StartAsync(async context =>
                    {
                        var task = context.AddTask("Importing", maxValue: 1);
                        await runner.RunAsync(source, new SpectreImportProgress(task, services.Time), cancellationToken).ConfigureAwait(false);
                    })
                    .ConfigureAwait(false);
            }
            else
            {
                var progress = new PlainImportProgress(services.Output, services.Time, services.PlainProgressInterval);
                await runner.RunAsync(source, progress, cancellationToken).ConfigureAwait(false);
            }

            return (SuccessExitCode, null);
        }
        catch (ImportTargetException exception)
        {
            if (exception.InnerException is { } cause and not HttpRequestException and not TaskCanceledException)
            {
                // A failure inside the local store may be a bug, so keep its stack trace.
                Log.TargetFailed(logger, cause, runner.LastLineNumber);
            }

            return (FailureExitCode, $"Import stopped after reading line {runner.LastLineNumber}: {exception.Message} "
                + "Fix the target and run the same command again: events already stored count as duplicates.");
        }
        catch (Exception exception) when (exception is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            return (FailureExitCode, $"Import stopped: reading {source.Path} failed after line {runner.LastLineNumber}: {exception.Message} "
                + "Check that the file is complete and not corrupt.");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return (CancelledExitCode, $"Import cancelled after line {runner.LastLineNumber}.");
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3101, Level = LogLevel.Error, Message = "The import target failed after line {LineNumber}")]
        public static partial void TargetFailed(ILogger logger, Exception exception, long lineNumber);
    }
}
