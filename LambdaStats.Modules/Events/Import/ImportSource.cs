using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Text;

namespace LambdaStats.Modules.Events.Import;

/// <summary>
/// An import file, plain or gzip-compressed, read as numbered lines. A file is read as gzip
/// when its name ends with <c>.gz</c> or it starts with the gzip magic bytes 1F 8B.
/// </summary>
/// <remarks>
/// Text is decoded as UTF-8 unless a byte order mark names another encoding. Invalid bytes
/// become U+FFFD. Lines end at LF, CR or CRLF. Not thread-safe.
/// </remarks>
public sealed class ImportSource : IAsyncDisposable, IDisposable
{
    private const int BufferSize = 64 * 1024;

    private readonly FileStream file;
    private readonly StreamReader reader;

    private ImportSource(string path, FileStream file, bool isCompressed)
    {
        Path = path;
        this.file = file;
        IsCompressed = isCompressed;
        Stream content = isCompressed ? new GZipStream(file, CompressionMode.Decompress, leaveOpen: true) : file;
        reader = new StreamReader(content, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, BufferSize, leaveOpen: false);
    }

    public string Path { get; }

    public bool IsCompressed { get; }

    /// <summary>Size of the file on disk in bytes, compressed when <see cref="IsCompressed"/>.</summary>
    public long Length => file.Length;

    /// <summary>
    /// Bytes of the file on disk read so far. Readers buffer ahead, so this runs ahead of the
    /// lines returned. It suits a progress bar, not an exact offset.
    /// </summary>
    public long Position => file.Position;

    /// <summary>Opens a file for reading.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="DirectoryNotFoundException">A folder on the path does not exist.</exception>
    /// <exception cref="UnauthorizedAccessException">The process may not read the file.</exception>
    /// <exception cref="IOException">The file could not be opened or read.</exception>
    public static ImportSource Open(string path)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, FileOptions.SequentialScan);
        try
        {
            var isCompressed = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) || StartsWithGzipMagic(file);
            file.Position = 0;
            return new ImportSource(path, file, isCompressed);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reads the file's lines, numbered from 1. Call it once per source: a second call goes on
    /// where the first stopped but numbers from 1 again.
    /// </summary>
    /// <exception cref="InvalidDataException">The gzip data is corrupt.</exception>
    /// <exception cref="IOException">Reading the file failed.</exception>
    public async IAsyncEnumerable<ImportLine> ReadLinesAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        long number = 0;
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } text)
        {
            number++;
            yield return new ImportLine(number, text);
        }
    }

    public void Dispose()
    {
        reader.Dispose();
        file.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        reader.Dispose();
        await file.DisposeAsync().ConfigureAwait(false);
    }

    private static bool StartsWithGzipMagic(FileStream file)
    {
        Span<byte> magic = stackalloc byte[2];
        return file.ReadAtLeast(magic, magic.Length, throwOnEndOfStream: false) == magic.Length
            && magic[0] == 0x1F
            && magic[1] == 0x8B;
    }
}
