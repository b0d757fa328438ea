using System.Globalization;
using System.Text.Json;
using LambdaStats.Modules.Events.Import;

namespace LambdaStats.Web.Cli;

/// <summary>Format of an import file.</summary>
internal enum ImportFormat
{
    /// <summary>NCSA Common or Combined Log Format, mapped to events by <see cref="AccessLogMapper"/>.</summary>
    Clf = 1,

    /// <summary>JSON Lines of the event schema, validated by the ingestion pipeline.</summary>
    Jsonl,
}

/// <summary>
/// Reads an import file, turns its lines into records, sends them to a target in batches and
/// counts the outcome of every line in <see cref="Summary"/>.
/// </summary>
/// <remarks>
/// Without a replay speed, batches go out as soon as they are full. With one, the runner first
/// reads the whole file into memory, orders the events by event time and sends each one when
/// its event time, scaled down by the speed, has passed since the first event. A replay that
/// falls behind sends the overdue events at once, up to a batch at a time.
/// </remarks>
internal sealed class ImportRunner
{
    /// <summary>Longest single wait, because timers reject waits of about 49 days or more.</summary>
    private static readonly TimeSpan MaxSingleDelay = TimeSpan.FromDays(1);

    private readonly IImportTarget target;
    private readonly TimeProvider time;
    private readonly ImportFormat format;
    private readonly int batchSize;
    private readonly double? replaySpeed;
    private long eventsConfirmed;
    private long unconfirmedCount;

    /// <param name="replaySpeed">Event time advances this many times faster than wall time. Null sends as fast as possible.</param>
    public ImportRunner(IImportTarget target, TimeProvider time, ImportFormat format, int batchSize, double? replaySpeed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (replaySpeed is { } speed && !(speed > 0 && double.IsFinite(speed)))
        {
            throw new ArgumentOutOfRangeException(nameof(replaySpeed), replaySpeed, "The replay speed must be a finite number greater than 0.");
        }

        this.target = target;
        this.time = time;
        this.format = format;
        this.batchSize = batchSize;
        this.replaySpeed = replaySpeed;
    }

    public ImportSummary Summary { get; } = new();

    /// <summary>Number of the last line read, 0 before the first.</summary>
    public long LastLineNumber { get; private set; }

    /// <summary>
    /// Imports every line of <paramref name="source"/>. When this throws, <see cref="Summary"/>
    /// counts the events read but not confirmed by the target as unconfirmed, so it still adds up.
    /// </summary>
    /// <exception cref="ImportTargetException">The target failed.</exception>
    /// <exception cref="IOException">Reading the file failed.</exception>
    /// <exception cref="InvalidDataException">The gzip data is corrupt.</exception>
    /// <exception cref="OperationCanceledException">The import was cancelled.</exception>
    public async Task RunAsync(ImportSource source, IImportProgress progress, CancellationToken cancellationToken)
    {
        try
        {
            if (replaySpeed is { } speed)
            {
                await ReplayAsync(source, progress, speed, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await SendAsFastAsPossibleAsync(source, progress, cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            Summary.AddUnconfirmed(unconfirmedCount);
            unconfirmedCount = 0;
            throw;
        }
    }

    private async Task SendAsFastAsPossibleAsync(ImportSource source, IImportProgress progress, CancellationToken cancellationToken)
    {
        var batch = new List<ImportRecord>(batchSize);
        await foreach (var line in source.ReadLinesAsync(cancellationToken).ConfigureAwait(false))
        {
            if (Decode(line) is not { } record)
            {
                continue;
            }

            batch.Add(record);
            if (batch.Count == batchSize)
            {
                await SendBatchAsync(batch, cancellationToken).ConfigureAwait(false);
                batch.Clear();
                progress.Report(FileFraction(source), eventsConfirmed);
            }
        }

        await SendBatchAsync(batch, cancellationToken).ConfigureAwait(false);
        progress.Report(1, eventsConfirmed);
    }

    private async Task ReplayAsync(ImportSource source, IImportProgress progress, double speed, CancellationToken cancellationToken)
    {
        var timed = new List<(ImportRecord Record, DateTimeOffset? Time)>();
        await foreach (var line in source.ReadLinesAsync(cancellationToken).ConfigureAwait(false))
        {
            if (Decode(line) is { } record)
            {
                timed.Add((record, GetEventTime(record)));
            }
        }

        // OrderBy is stable, so events of the same second keep their file order. Records without
        // a readable event time sort first and go out at once, so the service can reject them.
        var ordered = timed.OrderBy(item => item.Time ?? DateTimeOffset.MinValue).ToList();
        var origin = ordered.FirstOrDefault(item => item.Time is not null).Time;
        TimeSpan DueAfter(int index) => ordered[index].Time is { } eventTime && origin is { } first
            ? TimeSpan.FromTicks((long)Math.Min((eventTime - first).Ticks / speed, TimeSpan.MaxValue.Ticks))
            : TimeSpan.Zero;

        var start = time.GetTimestamp();
        var batch = new List<ImportRecord>(Math.Min(batchSize, ordered.Count));
        var next = 0;
        while (next < ordered.Count)
        {
            TimeSpan wait;
            while ((wait = DueAfter(next) - time.GetElapsedTime(start)) > TimeSpan.Zero)
            {
                await Task.Delay(wait < MaxSingleDelay ? wait : MaxSingleDelay, time, cancellationToken).ConfigureAwait(false);
            }

            var elapsed = time.GetElapsedTime(start);
            batch.Clear();
            do
            {
                batch.Add(ordered[next].Record);
                next++;
            }
            while (next < ordered.Count && batch.Count < batchSize && DueAfter(next) <= elapsed);

            await SendBatchAsync(batch, cancellationToken).ConfigureAwait(false);
            progress.Report((double)next / ordered.Count, eventsConfirmed);
        }

        progress.Report(1, eventsConfirmed);
    }

    /// <summary>Counts the line and returns its record, or null when the line was skipped or rejected.</summary>
    private ImportRecord? Decode(ImportLine line)
    {
        LastLineNumber = line.Number;
        Summary.AddLineRead();
        if (string.IsNullOrWhiteSpace(line.Text))
        {
            Summary.AddSkipped(JsonLinesReader.BlankLineReason);
            return null;
        }

        ImportRecord? record = format == ImportFormat.Jsonl ? DecodeJsonLine(line) : DecodeAccessLogLine(line);
        if (record is not null)
        {
            unconfirmedCount++;
        }

        return record;
    }

    private ImportRecord? DecodeJsonLine(ImportLine line)
    {
        var parsed = JsonLinesReader.ParseLine(line);
        if (parsed.Element is { } element)
        {
            return ImportRecord.FromJson(line.Number, element);
        }

        if (parsed.SkipReason is { } reason)
        {
            Summary.AddSkipped(reason);
        }
        else
        {
            Summary.AddRejected(line.Number, parsed.Error!);
        }

        return null;
    }

    private ImportRecord? DecodeAccessLogLine(ImportLine line)
    {
        if (!AccessLogParser.TryParse(line.Text, out var entry, out var error))
        {
            Summary.AddRejected(line.Number, error);
            return null;
        }

        var mapping = AccessLogMapper.Map(entry, line.Number, line.Text);
        if (mapping.Event is not { } mapped)
        {
            Summary.AddSkipped(mapping.SkipReason!);
            return null;
        }

        return ImportRecord.FromEvent(line.Number, mapped);
    }

    private async Task SendBatchAsync(List<ImportRecord> batch, CancellationToken cancellationToken)
    {
        if (batch.Count == 0)
        {
            return;
        }

        var result = await target.SendAsync(batch, cancellationToken).ConfigureAwait(false);
        unconfirmedCount -= batch.Count;
        eventsConfirmed += batch.Count;
        Summary.AddStored(result.Accepted, result.Duplicates);
        foreach (var rejection in result.Rejected)
        {
            Summary.AddRejected(rejection.LineNumber, rejection.Reason);
        }
    }

    /// <summary>
    /// Returns the event time used to order a replay, or null when a JSON value has no
    /// <c>occurredAt</c> with an offset: the service rejects those, so they must not set the pace.
    /// </summary>
    private static DateTimeOffset? GetEventTime(ImportRecord record)
    {
        if (record.Validated is { } validated)
        {
            return validated.OccurredAt;
        }

        if (record.Json is { ValueKind: JsonValueKind.Object } json
            && json.TryGetProperty("occurredAt", out var occurredAt)
            && occurredAt.ValueKind == JsonValueKind.String
            && Endpoints.JsonInstants.TryParse(occurredAt.GetString(), out var parsed))
        {
            return parsed;
        }

        return null;
    }

    private static double FileFraction(ImportSource source) =>
        source.Length > 0 ? Math.Min(1, (double)source.Position / source.Length) : 1;
}
