using System.Globalization;
using Spectre.Console;

namespace LambdaStats.Web.Cli;

/// <summary>Receives the progress of an import after each batch.</summary>
internal interface IImportProgress
{
    /// <param name="fraction">Share of the work done, from 0 to 1.</param>
    /// <param name="eventsSent">Events whose result the target has returned so far.</param>
    void Report(double fraction, long eventsSent);
}

/// <summary>Ignores progress, for tests and callers without a console.</summary>
internal sealed class NullImportProgress : IImportProgress
{
    public static readonly NullImportProgress Instance = new();

    public void Report(double fraction, long eventsSent)
    {
    }
}

/// <summary>Measures the event rate since the import started.</summary>
internal sealed class ImportRate(TimeProvider time)
{
    private readonly long start = time.GetTimestamp();

    public TimeSpan Elapsed => time.GetElapsedTime(start);

    public double EventsPerSecond(long events)
    {
        var seconds = Elapsed.TotalSeconds;
        return seconds > 0 ? events / seconds : 0;
    }
}

/// <summary>
/// Prints one plain progress line at most every <paramref name="interval"/>, for output that is
/// not a terminal (a CI log or a file), where a redrawn progress bar would print garbage.
/// </summary>
internal sealed class PlainImportProgress(TextWriter output, TimeProvider time, TimeSpan interval) : IImportProgress
{
    private readonly ImportRate rate = new(time);
    private TimeSpan lastPrint;

    public void Report(double fraction, long eventsSent)
    {
        var elapsed = rate.Elapsed;
        if (elapsed - lastPrint < interval)
        {
            return;
        }

        lastPrint = elapsed;
        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"Imported {eventsSent:N0} events ({fraction * 100:0}% done), {rate.EventsPerSecond(eventsSent):N0} events/s"));
    }
}

/// <summary>Updates a Spectre.Console progress bar and shows events per second in its description.</summary>
internal sealed class SpectreImportProgress(ProgressTask task, TimeProvider time) : IImportProgress
{
    private readonly ImportRate rate = new(time);

    public void Report(double fraction, long eventsSent)
    {
        task.Value = Math.Clamp(fraction, 0, 1) * task.MaxValue;
        task.Description = string.Create(
            CultureInfo.InvariantCulture,
            $"Importing: {eventsSent:N0} events, {rate.EventsPerSecond(eventsSent):N0} events/s");
    }
}
