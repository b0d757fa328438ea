using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace LambdaStats.Modules.Aggregation.Columns;

/// <summary>
/// An append-only scratch file of the speed layer: one record per added pair event, each linked
/// to the previous record of the same row, so that a row's records read back without a scan.
/// Deleted on <see cref="Dispose"/>.
/// </summary>
/// <remarks>
/// A record is the pair's number (4 bytes), 1 + the index of the row's previous record or 0 for
/// the first (4 bytes), and, in a file created with amounts, a double (8 bytes), in the machine's
/// byte order. Appends go to a 64 KiB buffer that is written when full, so an append costs no
/// system call and allocates nothing. Reads take records that are still in that buffer from
/// memory, and the others from a read-only memory mapping of the written part of the file,
/// renewed when a read needs a record written since. A row's records can sit far apart in the
/// file, and the mapping reads each without a system call. The file contains state that a restart
/// rebuilds from the event store, so it is never synced. Not thread-safe, so the speed buffer's
/// lock covers every call.
/// NOTE: a write that fails (a disk that fills up) throws from <see cref="SpeedBuffer.Add"/> after
/// the events were stored, so the buffer misses them until the batch covers their hour or a
/// restart rebuilds it. The records that were not written stay in the write buffer and are written
/// first by the next append. A read that rewrites a row can throw the same way, from a snapshot.
/// </remarks>
internal sealed class PairRecordFile : IDisposable
{
    private const int BufferSize = 64 * 1024;

    private readonly SafeFileHandle handle;
    private readonly int recordSize;
    private readonly byte[] writeBuffer = new byte[BufferSize];
    private int bufferedBytes;
    private long writtenRecords;

    // A read-only mapping of the first mappedRecords records, made by the first read that needs a record past it.
    private MemoryMappedFile? map;
    private MemoryMappedViewAccessor? view;
    private long mappedRecords;

    // Per row: 1 + the index of its last record, or 0 when it has none.
    private uint[] rowLast = [];
    private uint records;

    // A row's records in event order, refilled by each ReadRow.
    private readonly List<int> rowNumbers = [];
    private readonly List<double> rowAmounts = [];
    private bool disposed;

    private PairRecordFile(SafeFileHandle handle, string path, bool withAmounts)
    {
        this.handle = handle;
        Path = path;
        recordSize = withAmounts ? 16 : 8;
    }

    public string Path { get; }

    /// <summary>Whether a read mapping of the file exists; for tests.</summary>
    internal bool IsMapped => view is not null;

    /// <summary>Number of records appended, including those still in the write buffer.</summary>
    public long RecordCount => records;

    /// <summary>Bytes of the file once the write buffer is written: <see cref="RecordCount"/> times 8, or 16 with amounts.</summary>
    public long Length => (long)records * recordSize;

    /// <summary>Creates a new file at <paramref name="path"/>, with an amount in each record when <paramref name="withAmounts"/> is set.</summary>
    /// <exception cref="IOException">The file exists already or cannot be created.</exception>
    /// <exception cref="UnauthorizedAccessException">The directory is not writable.</exception>
    public static PairRecordFile Create(string path, bool withAmounts)
    {
        var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None);
        return new PairRecordFile(handle, path, withAmounts);
    }

    /// <summary>Makes room for row numbers below <paramref name="rowCount"/>; a new row has no records.</summary>
    public void EnsureRows(int rowCount)
    {
        if (rowCount > rowLast.Length)
        {
            Array.Resize(ref rowLast, Math.Max(rowCount, rowLast.Length + rowLast.Length / 2));
        }
    }

    /// <summary>Appends a record of <paramref name="number"/> and <paramref name="amount"/> at the end of the chain of <paramref name="row"/>.</summary>
    /// <exception cref="InvalidOperationException">The file has 2^32 - 1 records, the most that a 4-byte link can reach.</exception>
    public void Append(int row, int number, double amount = 0)
    {
        if (bufferedBytes == writeBuffer.Length)
        {
            Flush();
        }

        if (records == uint.MaxValue)
        {
            throw new InvalidOperationException($"The scratch file '{Path}' is full: it has {records} records, the maximum that its 4-byte links can address.");
        }

        var record = writeBuffer.AsSpan(bufferedBytes, recordSize);
        MemoryMarshal.Write(record, in number);
        MemoryMarshal.Write(record[4..], in rowLast[row]);
        if (recordSize == 16)
        {
            MemoryMarshal.Write(record[8..], in amount);
        }

        bufferedBytes += recordSize;
        records++;
        rowLast[row] = records;
    }

    /// <summary>
    /// Replaces the chain of <paramref name="row"/> by new records of <paramref name="numbers"/> and
    /// <paramref name="amounts"/>, in that order. The earlier records stay in the file, but no read reaches them.
    /// </summary>
    /// <param name="amounts">One per number in a file with amounts; empty otherwise.</param>
    /// <remarks>When an append fails, the row keeps its earlier chain and the exception propagates.</remarks>
    public void RewriteRow(int row, ReadOnlySpan<int> numbers, ReadOnlySpan<double> amounts)
    {
        var earlier = rowLast[row];
        rowLast[row] = 0;
        try
        {
            for (var i = 0; i < numbers.Length; i++)
            {
                Append(row, numbers[i], amounts.IsEmpty ? 0 : amounts[i]);
            }
        }
        catch
        {
            rowLast[row] = earlier;
            throw;
        }
    }

    /// <summary>Numbers of the records that the last <see cref="ReadRow"/> read, in the order they were appended.</summary>
    public ReadOnlySpan<int> RowNumbers => CollectionsMarshal.AsSpan(rowNumbers);

    /// <summary>Amounts of the records that the last <see cref="ReadRow"/> read, 0 in a file without amounts.</summary>
    public ReadOnlySpan<double> RowAmounts => CollectionsMarshal.AsSpan(rowAmounts);

    /// <summary>Reads the records of <paramref name="row"/> into <see cref="RowNumbers"/> and <see cref="RowAmounts"/>, and returns how many.</summary>
    public int ReadRow(int row)
    {
        rowNumbers.Clear();
        rowAmounts.Clear();

        // The chain runs from the row's last record back to its first.
        for (var link = rowLast[row]; link != 0;)
        {
            ReadRecord(link - 1, out var number, out link, out var amount);
            rowNumbers.Add(number);
            rowAmounts.Add(amount);
        }

        rowNumbers.Reverse();
        rowAmounts.Reverse();
        return rowNumbers.Count;
    }

    /// <summary>
    /// Removes the read mapping. The pages that reads touched count in the process's resident set
    /// while they are mapped, up to the whole file after a read of every row. Unmapped, they stay
    /// in the system's file cache only, and the next read maps the file again.
    /// </summary>
    public void Unmap()
    {
        view?.Dispose();
        map?.Dispose();
        view = null;
        map = null;
        mappedRecords = 0;
    }

    /// <summary>Closes the file and deletes it.</summary>
    public void Dispose()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        view?.Dispose();
        map?.Dispose();
        handle.Dispose();
        File.Delete(Path);
    }

    private void Flush()
    {
        RandomAccess.Write(handle, writeBuffer.AsSpan(0, bufferedBytes), writtenRecords * recordSize);
        writtenRecords += bufferedBytes / recordSize;
        bufferedBytes = 0;
    }

    private void ReadRecord(long index, out int number, out uint link, out double amount)
    {
        if (index >= writtenRecords)
        {
            var record = writeBuffer.AsSpan((int)(index - writtenRecords) * recordSize, recordSize);
            number = MemoryMarshal.Read<int>(record);
            link = MemoryMarshal.Read<uint>(record[4..]);
            amount = recordSize == 16 ? MemoryMarshal.Read<double>(record[8..]) : 0;
            return;
        }

        if (index >= mappedRecords)
        {
            MapWrittenRecords();
        }

        var offset = index * recordSize;
        number = view!.ReadInt32(offset);
        link = view.ReadUInt32(offset + 4);
        amount = recordSize == 16 ? view.ReadDouble(offset + 8) : 0;
    }

    /// <summary>Maps the written part of the file for reading, in place of a smaller earlier mapping.</summary>
    private void MapWrittenRecords()
    {
        Unmap();
        var length = writtenRecords * recordSize;
        map = MemoryMappedFile.CreateFromFile(handle, null, length, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: true);
        view = map.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
        mappedRecords = writtenRecords;
    }
}
