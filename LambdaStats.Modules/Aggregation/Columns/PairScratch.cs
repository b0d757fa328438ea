using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace LambdaStats.Modules.Aggregation.Columns;

/// <summary>
/// The directory of the speed layer's scratch files and the number of pairs an output keeps in
/// memory per hour before it moves them there.
/// </summary>
/// <remarks>
/// The files hold derived state only: the speed layer rebuilds its buffers from the event store
/// at startup, so <see cref="DeleteFiles"/> runs before that rebuild, and each file is deleted when
/// its hour is released.
/// </remarks>
internal sealed partial class PairScratch
{
    private const string FileExtension = ".pairs";

    // The SQLite scratch files of earlier versions are deleted at start as well.
    private static readonly string[] FilePatterns = ["*" + FileExtension, "*.db", "*.db-journal"];

    private readonly ILogger logger;

    /// <param name="logger">Receives the spills that failed; the outputs concerned keep their pairs in memory.</param>
    public PairScratch(string directory, int pairsInMemory, ILogger<PairScratch>? logger = null)
    {
        this.logger = logger ?? NullLogger<PairScratch>.Instance;
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentOutOfRangeException.ThrowIfLessThan(pairsInMemory, 1);
        Directory = Path.GetFullPath(directory);
        PairsInMemory = pairsInMemory;
    }

    public string Directory { get; }

    public int PairsInMemory { get; }

    /// <summary>Creates a new record file, with an amount in each record when <paramref name="withAmounts"/> is set.</summary>
    /// <exception cref="IOException">The directory or the file cannot be created.</exception>
    /// <exception cref="UnauthorizedAccessException">The directory is not writable.</exception>
    public PairRecordFile Create(bool withAmounts)
    {
        System.IO.Directory.CreateDirectory(Directory);
        return PairRecordFile.Create(Path.Combine(Directory, Guid.NewGuid().ToString("N") + FileExtension), withAmounts);
    }

    /// <summary>
    /// Creates the directory and a probe file in it, then deletes the file, so that a directory
    /// the service cannot write stops the start instead of failing every spill.
    /// </summary>
    /// <exception cref="InvalidOperationException">The directory or the probe file cannot be created, or the file cannot be deleted.</exception>
    public void EnsureWritable()
    {
        var probe = Path.Combine(Directory, $"write-probe-{Guid.NewGuid():N}.tmp");
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException(
                $"The speed layer's scratch directory '{Directory}' is not writable: {exception.Message} "
                + "Make the directory writable by the service's user, or set Storage:DataDirectory, the directory it is under, to a writable one.",
                exception);
        }
    }

    /// <summary>Logs that an output could not move its pairs to a scratch file and keeps them in memory for the rest of its hour.</summary>
    public void ReportSpillFailure(Exception exception, long pairs) => Log.SpillFailed(logger, exception, Directory, pairs);

    /// <summary>Deletes the scratch files that a previous process left, and returns how many.</summary>
    /// <remarks>
    /// A file that cannot be deleted (a read-only directory) is logged and left: it only takes
    /// disk space, and a later spill that cannot create its file keeps its pairs in memory.
    /// </remarks>
    public int DeleteFiles()
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            return 0;
        }

        var deleted = 0;
        foreach (var file in ListFiles())
        {
            try
            {
                File.Delete(file);
                deleted++;
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                Log.DeleteFailed(logger, exception, file);
            }
        }

        return deleted;
    }

    /// <summary>Returns the scratch files present now; for diagnostics and tests.</summary>
    internal IReadOnlyList<string> ListFiles() =>
        System.IO.Directory.Exists(Directory) ? FilePatterns.SelectMany(pattern => System.IO.Directory.GetFiles(Directory, pattern)).ToArray() : [];

    private static partial class Log
    {
        [LoggerMessage(EventId = 3023, Level = LogLevel.Warning, Message = "Failed to delete the scratch file {Path} of a previous process; it is left on disk")]
        public static partial void DeleteFailed(ILogger logger, Exception exception, string path);

        [LoggerMessage(EventId = 3022, Level = LogLevel.Error, Message = "Failed to move {PairCount} pairs to a scratch file in {Directory}; the output keeps the pairs of this hour in memory")]
        public static partial void SpillFailed(ILogger logger, Exception exception, string directory, long pairCount);
    }
}
