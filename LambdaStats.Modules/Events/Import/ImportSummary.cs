using System.Globalization;
using System.Text;

namespace LambdaStats.Modules.Events.Import;

/// <summary>A line that could not be imported, with the reason.</summary>
public sealed record ImportRejection(long LineNumber, string Reason);

/// <summary>
/// Counts of what happened to each line of an import. Every line read ends in exactly one
/// count, so <see cref="IsBalanced"/> is true once the target has returned the result of every batch.
/// </summary>
/// <remarks>
/// <see cref="Unconfirmed"/> is zero for an import that ran to its end. It counts the events of
/// batches whose outcome is unknown because the import stopped, so the counts still add up.
/// Not thread-safe.
/// </remarks>
public sealed class ImportSummary
{
    /// <summary>Maximum number of rejections kept with their line number and reason.</summary>
    public const int MaxListedRejections = 10;

    private readonly Dictionary<string, long> skippedByReason = new(StringComparer.Ordinal);
    private readonly List<ImportRejection> firstRejections = [];

    public long LinesRead { get; private set; }

    /// <summary>Events that the target stored as new.</summary>
    public long Accepted { get; private set; }

    /// <summary>Events whose id the target had already stored.</summary>
    public long Duplicates { get; private set; }

    /// <summary>Lines that make no event by design, such as a POST request or a blank line.</summary>
    public long Skipped { get; private set; }

    /// <summary>Lines that could not be parsed, or whose event the target rejected as invalid.</summary>
    public long Rejected { get; private set; }

    /// <summary>Events sent or ready to send whose outcome is unknown because the import stopped.</summary>
    public long Unconfirmed { get; private set; }

    public IReadOnlyDictionary<string, long> SkippedByReason => skippedByReason;

    /// <summary>The first <see cref="MaxListedRejections"/> rejections, in the order they were recorded.</summary>
    public IReadOnlyList<ImportRejection> FirstRejections => firstRejections;

    /// <summary>Checks that accepted + duplicates + skipped + rejected + unconfirmed equals lines read.</summary>
    public bool IsBalanced => Accepted + Duplicates + Skipped + Rejected + Unconfirmed == LinesRead;

    public void AddLineRead() => LinesRead++;

    public void AddSkipped(string reason)
    {
        Skipped++;
        skippedByReason[reason] = skippedByReason.GetValueOrDefault(reason) + 1;
    }

    public void AddRejected(long lineNumber, string reason)
    {
        Rejected++;
        if (firstRejections.Count < MaxListedRejections)
        {
            firstRejections.Add(new ImportRejection(lineNumber, reason));
        }
    }

    /// <summary>Adds the counts that the target returned for one batch.</summary>
    public void AddStored(int accepted, int duplicates)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(accepted);
        ArgumentOutOfRangeException.ThrowIfNegative(duplicates);
        Accepted += accepted;
        Duplicates += duplicates;
    }

    public void AddUnconfirmed(long count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Unconfirmed += count;
    }

    /// <summary>Renders the counts as lines of plain text, with reasons sorted by count.</summary>
    public string Render()
    {
        var culture = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(culture, $"Lines read:       {LinesRead,10:N0}");
        text.AppendLine(culture, $"Events accepted:  {Accepted,10:N0}");
        text.AppendLine(culture, $"Duplicates:       {Duplicates,10:N0}");
        text.AppendLine(culture, $"Skipped:          {Skipped,10:N0}");
        foreach (var (reason, count) in skippedByReason.OrderByDescending(pair => pair.Value).ThenBy(pair => pair.Key, StringComparer.Ordinal))
        {
            text.AppendLine(culture, $"  {count,10:N0}  {reason}");
        }

        text.AppendLine(culture, $"Rejected:         {Rejected,10:N0}");
        foreach (var rejection in firstRejections)
        {
            text.AppendLine(culture, $"  line {rejection.LineNumber}: {rejection.Reason}");
        }

        if (Rejected > firstRejections.Count)
        {
            text.AppendLine(culture, $"  ... {Rejected - firstRejections.Count:N0} more not listed");
        }

        if (Unconfirmed > 0)
        {
            text.AppendLine(culture, $"Unconfirmed:      {Unconfirmed,10:N0} (the import stopped before the target answered)");
        }

        return text.ToString();
    }
}
