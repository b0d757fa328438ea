using System.Buffers;
using System.IO.Hashing;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace LambdaStats.Modules.Aggregation;

/// <summary>
/// HyperLogLog sketch: an estimate of the number of distinct strings added, from m = 2^p registers,
/// where p is the precision (4 to 18). A string is hashed with XxHash64 (seed 0) over its UTF-8
/// bytes. The top p bits of the hash pick a register, which keeps the maximum rank seen. The rank
/// is the position of the first 1 bit in the other 64 - p bits, or 65 - p when they are all 0.
/// </summary>
/// <remarks>
/// <para>
/// The relative standard error of the estimate is about 1.04 / sqrt(m): 0.81% at p = 14, 1.6% at
/// p = 12, 3.3% at p = 10.
/// </para>
/// <para>
/// Estimator: the improved raw estimator of Otmar Ertl, "New cardinality estimation algorithms
/// for HyperLogLog sketches" (2017, arXiv:1702.01284). It works on the histogram of register
/// values and covers small and large cardinalities with one formula, without bias tables and
/// without a switch to linear counting.
/// </para>
/// <para>
/// Representation: while few registers are set, the sketch is sparse, a sorted list of
/// (register index, rank) pairs, 4 bytes each in memory (plus list slack) and 3 bytes each in the
/// stored state; up to 64 new pairs wait unsorted before they are merged into the list. It
/// becomes dense, one byte per register, once more than m / 4 registers are set, the point where
/// the list would take more room than the dense form. Dense takes m bytes in memory (16 KiB at
/// p = 14) and 6 bits per register in the stored state (12 KiB at p = 14, 16 KiB as base64).
/// Both forms hold the same registers. Unless <see cref="ConvertToDense"/> is called, the form
/// depends only on how many registers are set, so the stored state of a set is the same whatever
/// the order of adds and merges.
/// </para>
/// <para>Not thread-safe; callers synchronise.</para>
/// </remarks>
public sealed class HyperLogLogSketch
{
    public const int MinPrecision = 4;
    public const int MaxPrecision = 18;
    public const int DefaultPrecision = 14;

    /// <summary>Bits of a rank in a sparse entry and in the stored dense state; ranks go up to 61 (at p = 4).</summary>
    private const int RankBits = 6;
    private const uint RankMask = (1u << RankBits) - 1;

    /// <summary>The largest UTF-8 buffer taken on the stack, enough for the worst case of 169 characters.</summary>
    private const int MaxStackBytes = 512;

    /// <summary>
    /// New sparse entries wait in an unsorted buffer of at most this many, so that a new register
    /// costs an amortised move of (sparse entries / 64) entries, not of the whole sorted list.
    /// </summary>
    private const int PendingCapacity = 64;

    /// <summary>The limit of the bias constant alpha of HyperLogLog as m grows: 1 / (2 ln 2).</summary>
    private static readonly double AlphaInfinity = 1 / (2 * Math.Log(2));

    /// <summary>Sparse entries (index &lt;&lt; 6 | rank), sorted by index; null when dense.</summary>
    private List<uint>? sparse = [];

    /// <summary>
    /// Sparse entries not merged into <see cref="sparse"/> yet, in no order. Their registers are
    /// set nowhere else, so the two lists together hold one entry per set register.
    /// </summary>
    private List<uint>? pending;

    /// <summary>One byte per register; null while sparse.</summary>
    private byte[]? dense;

    public HyperLogLogSketch(int precision = DefaultPrecision)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(precision, MinPrecision);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(precision, MaxPrecision);
        Precision = precision;
    }

    public int Precision { get; }

    /// <summary>The number of registers, m = 2^<see cref="Precision"/>.</summary>
    public int RegisterCount => 1 << Precision;

    /// <summary>The largest rank a register can hold, 65 - p.</summary>
    public int MaxRank => 65 - Precision;

    public bool IsSparse => dense is null;

    /// <summary>The number of registers that are not 0.</summary>
    public int SetRegisterCount => dense is null ? SparseCount : dense.Count(register => register != 0);

    private int SparseCount => sparse!.Count + (pending?.Count ?? 0);

    /// <summary>The most sparse entries the sketch keeps before it turns dense.</summary>
    private int SparseLimit => RegisterCount / 4;

    /// <summary>
    /// Adds a value, hashed over its UTF-8 bytes. Values of up to 169 characters are encoded on the
    /// stack, longer ones in a pooled array.
    /// </summary>
    public void Add(ReadOnlySpan<char> value)
    {
        var maxBytes = Encoding.UTF8.GetMaxByteCount(value.Length);
        byte[]? rented = null;
        Span<byte> buffer = maxBytes <= MaxStackBytes
            ? stackalloc byte[MaxStackBytes]
            : rented = ArrayPool<byte>.Shared.Rent(maxBytes);
        try
        {
            var length = Encoding.UTF8.GetBytes(value, buffer);
            AddHash(XxHash64.HashToUInt64(buffer[..length]));
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Adds a value by its 64-bit hash, which must be uniformly distributed.</summary>
    public void AddHash(ulong hash)
    {
        var index = (int)(hash >> (64 - Precision));

        // The sentinel bit just below the 64 - p rank bits caps the rank at 65 - p.
        var rank = BitOperations.LeadingZeroCount((hash << Precision) | (1UL << (Precision - 1))) + 1;
        Raise(index, (byte)rank);
    }

    /// <summary>
    /// Raises every register to its value in <paramref name="other"/>, so this sketch becomes the
    /// sketch of the union of both sets, register for register.
    /// </summary>
    /// <exception cref="ArgumentException">The sketches have different precisions.</exception>
    public void Merge(HyperLogLogSketch other)
    {
        if (other.Precision != Precision)
        {
            throw new ArgumentException($"Cannot merge a sketch of precision {other.Precision} into one of precision {Precision}.", nameof(other));
        }

        if (other.dense is { } otherRegisters)
        {
            var registers = ConvertToDense();
            for (var i = 0; i < registers.Length; i++)
            {
                registers[i] = Math.Max(registers[i], otherRegisters[i]);
            }

            return;
        }

        if (dense is { } denseRegisters)
        {
            foreach (var entry in other.SparseEntries())
            {
                var index = (int)(entry >> RankBits);
                denseRegisters[index] = Math.Max(denseRegisters[index], (byte)(entry & RankMask));
            }

            return;
        }

        FlushPending();
        sparse = MergeSorted(sparse!, other.SortedSparseEntries(), SparseLimit + 1);
        if (sparse.Count > SparseLimit)
        {
            ConvertToDense();
        }
    }

    public HyperLogLogSketch Clone()
    {
        var copy = new HyperLogLogSketch(Precision);
        if (dense is not null)
        {
            copy.sparse = null;
            copy.dense = (byte[])dense.Clone();
        }
        else
        {
            copy.sparse = [.. sparse!];
            copy.pending = pending is null ? null : [.. pending];
        }

        return copy;
    }

    /// <summary>Returns a copy of all registers, one byte each, whatever the representation.</summary>
    public byte[] GetRegisters()
    {
        if (dense is not null)
        {
            return (byte[])dense.Clone();
        }

        var registers = new byte[RegisterCount];
        foreach (var entry in SparseEntries())
        {
            registers[entry >> RankBits] = (byte)(entry & RankMask);
        }

        return registers;
    }

    /// <summary>Switches to the dense representation, which the sketch keeps from then on, and returns its registers.</summary>
    public byte[] ConvertToDense()
    {
        if (dense is null)
        {
            dense = GetRegisters();
            sparse = null;
            pending = null;
        }

        return dense;
    }

    /// <summary>Estimates the number of distinct values added, with Ertl's improved raw estimator.</summary>
    public double Estimate()
    {
        var q = 64 - Precision;
        Span<int> histogram = stackalloc int[q + 2];
        if (dense is not null)
        {
            foreach (var register in dense)
            {
                histogram[register]++;
            }
        }
        else
        {
            histogram[0] = RegisterCount - SparseCount;
            foreach (var entry in SparseEntries())
            {
                histogram[(int)(entry & RankMask)]++;
            }
        }

        double m = RegisterCount;
        var z = m * Tau(1 - (histogram[q + 1] / m));
        for (var k = q; k >= 1; k--)
        {
            z = 0.5 * (z + histogram[k]);
        }

        z += m * Sigma(histogram[0] / m);
        return AlphaInfinity * m * m / z;
    }

    /// <summary>Returns <see cref="Estimate"/> rounded to a whole number, capped at <see cref="long.MaxValue"/>.</summary>
    public long EstimateCount()
    {
        var estimate = Estimate();
        return estimate < long.MaxValue ? (long)Math.Round(estimate) : long.MaxValue;
    }

    /// <summary>
    /// Writes the state as <c>{"precision":p,"sparse":base64}</c>, 3 bytes per set register, or
    /// <c>{"precision":p,"dense":base64}</c>, 4 registers of 6 bits in every 3 bytes.
    /// </summary>
    public void WriteState(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteNumber("precision", Precision);
        if (dense is null)
        {
            writer.WriteBase64String("sparse", PackSparse(SortedSparseEntries()));
        }
        else
        {
            writer.WriteBase64String("dense", PackDense(dense));
        }

        writer.WriteEndObject();
    }

    /// <summary>Replaces the registers with a state written by <see cref="WriteState"/>.</summary>
    /// <exception cref="FormatException">The state is malformed or was written with another precision.</exception>
    public void ReadState(JsonElement state)
    {
        if (state.ValueKind != JsonValueKind.Object || !state.TryGetProperty("precision", out var precisionElement) || !precisionElement.TryGetInt32(out var precision))
        {
            throw new FormatException($"A HyperLogLog state must be an object with a precision, got {state.ValueKind}; the output's mode may have changed, so recompute its views.");
        }

        if (precision != Precision)
        {
            throw new FormatException($"The stored HyperLogLog state has precision {precision}, the configuration has {Precision}; recompute the views.");
        }

        if (state.TryGetProperty("sparse", out var sparseElement))
        {
            sparse = UnpackSparse(sparseElement.GetBytesFromBase64());
            pending = null;
            dense = null;
            if (sparse.Count > SparseLimit)
            {
                ConvertToDense();
            }
        }
        else if (state.TryGetProperty("dense", out var denseElement))
        {
            dense = UnpackDense(denseElement.GetBytesFromBase64());
            sparse = null;
            pending = null;
        }
        else
        {
            throw new FormatException("A HyperLogLog state has neither a sparse nor a dense property.");
        }
    }

    private void Raise(int index, byte rank)
    {
        if (dense is not null)
        {
            if (rank > dense[index])
            {
                dense[index] = rank;
            }

            return;
        }

        var entries = sparse!;
        var position = LowerBound(entries, index);
        if (position < entries.Count && entries[position] >> RankBits == index)
        {
            if (rank > (entries[position] & RankMask))
            {
                entries[position] = Entry(index, rank);
            }

            return;
        }

        pending ??= [];
        for (var i = 0; i < pending.Count; i++)
        {
            if (pending[i] >> RankBits == index)
            {
                if (rank > (pending[i] & RankMask))
                {
                    pending[i] = Entry(index, rank);
                }

                return;
            }
        }

        pending.Add(Entry(index, rank));
        if (SparseCount > SparseLimit)
        {
            ConvertToDense();
        }
        else if (pending.Count >= PendingCapacity)
        {
            FlushPending();
        }
    }

    /// <summary>Sorts the pending entries into the sorted list, merging from the back in place.</summary>
    private void FlushPending()
    {
        if (pending is not { Count: > 0 })
        {
            return;
        }

        var entries = sparse!;
        var newEntries = CollectionsMarshal.AsSpan(pending);
        newEntries.Sort();
        var oldCount = entries.Count;
        CollectionsMarshal.SetCount(entries, oldCount + newEntries.Length);
        var merged = CollectionsMarshal.AsSpan(entries);
        int from = oldCount - 1, next = newEntries.Length - 1, to = merged.Length - 1;
        while (next >= 0)
        {
            merged[to--] = from >= 0 && merged[from] > newEntries[next] ? merged[from--] : newEntries[next--];
        }

        pending.Clear();
    }

    /// <summary>The sparse entries in no particular order, without changing the sketch.</summary>
    private IEnumerable<uint> SparseEntries() => pending is { Count: > 0 } ? sparse!.Concat(pending) : sparse!;

    /// <summary>The sparse entries sorted by index, without changing the sketch.</summary>
    private List<uint> SortedSparseEntries()
    {
        if (pending is not { Count: > 0 })
        {
            return sparse!;
        }

        var newEntries = pending.ToArray();
        Array.Sort(newEntries);
        return MergeSorted(sparse!, [.. newEntries], sparse!.Count + newEntries.Length);
    }

    private static uint Entry(int index, int rank) => ((uint)index << RankBits) | (uint)rank;

    /// <summary>Returns the position of the first entry whose index is at least <paramref name="index"/>.</summary>
    private static int LowerBound(List<uint> entries, int index)
    {
        // No entry has rank 0, so this probe falls between entries and the search returns its complement.
        var found = entries.BinarySearch(Entry(index, 0));
        return found >= 0 ? found : ~found;
    }

    /// <summary>Merges two sorted entry lists, keeping the higher rank where both set a register.</summary>
    /// <param name="capacity">The initial capacity, which the result exceeds only when it must.</param>
    private static List<uint> MergeSorted(List<uint> left, List<uint> right, int capacity)
    {
        var merged = new List<uint>(Math.Min(left.Count + right.Count, capacity));
        int i = 0, j = 0;
        while (i < left.Count && j < right.Count)
        {
            var leftIndex = left[i] >> RankBits;
            var rightIndex = right[j] >> RankBits;
            if (leftIndex < rightIndex)
            {
                merged.Add(left[i++]);
            }
            else if (rightIndex < leftIndex)
            {
                merged.Add(right[j++]);
            }
            else
            {
                merged.Add(Math.Max(left[i++], right[j++]));
            }
        }

        merged.AddRange(CollectionsMarshal.AsSpan(left)[i..]);
        merged.AddRange(CollectionsMarshal.AsSpan(right)[j..]);
        return merged;
    }

    private static byte[] PackSparse(List<uint> entries)
    {
        var bytes = new byte[entries.Count * 3];
        for (var i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            bytes[3 * i] = (byte)(entry >> 16);
            bytes[(3 * i) + 1] = (byte)((entry >> 8) & 0xFF);
            bytes[(3 * i) + 2] = (byte)(entry & 0xFF);
        }

        return bytes;
    }

    private List<uint> UnpackSparse(byte[] bytes)
    {
        if (bytes.Length % 3 != 0)
        {
            throw new FormatException($"A sparse HyperLogLog state has {bytes.Length} bytes, not a multiple of 3.");
        }

        var entries = new List<uint>(bytes.Length / 3);
        for (var i = 0; i < bytes.Length; i += 3)
        {
            var entry = ((uint)bytes[i] << 16) | ((uint)bytes[i + 1] << 8) | bytes[i + 2];
            var index = entry >> RankBits;
            var rank = entry & RankMask;
            if (index >= RegisterCount || rank == 0 || rank > MaxRank)
            {
                throw new FormatException($"A sparse HyperLogLog state has register {index} with rank {rank}; precision {Precision} allows registers below {RegisterCount} and ranks 1 to {MaxRank}.");
            }

            if (entries.Count > 0 && entries[^1] >> RankBits >= index)
            {
                throw new FormatException($"A sparse HyperLogLog state lists register {index} out of order.");
            }

            entries.Add(entry);
        }

        return entries;
    }

    private static byte[] PackDense(byte[] registers)
    {
        var bytes = new byte[registers.Length / 4 * 3];
        for (int i = 0, o = 0; i < registers.Length; i += 4, o += 3)
        {
            var group = (registers[i] << 18) | (registers[i + 1] << 12) | (registers[i + 2] << 6) | registers[i + 3];
            bytes[o] = (byte)(group >> 16);
            bytes[o + 1] = (byte)((group >> 8) & 0xFF);
            bytes[o + 2] = (byte)(group & 0xFF);
        }

        return bytes;
    }

    private byte[] UnpackDense(byte[] bytes)
    {
        var expected = RegisterCount / 4 * 3;
        if (bytes.Length != expected)
        {
            throw new FormatException($"A dense HyperLogLog state of precision {Precision} has {bytes.Length} bytes, expected {expected}.");
        }

        var registers = new byte[RegisterCount];
        for (int i = 0, o = 0; i < registers.Length; i += 4, o += 3)
        {
            var group = (bytes[o] << 16) | (bytes[o + 1] << 8) | bytes[o + 2];
            registers[i] = (byte)(group >> 18);
            registers[i + 1] = (byte)((group >> 12) & (int)RankMask);
            registers[i + 2] = (byte)((group >> 6) & (int)RankMask);
            registers[i + 3] = (byte)(group & (int)RankMask);
        }

        var highest = registers.Max();
        if (highest > MaxRank)
        {
            throw new FormatException($"A dense HyperLogLog state has a register of rank {highest}; precision {Precision} allows at most {MaxRank}.");
        }

        return registers;
    }

    /// <summary>sigma(x) = x + sum over k >= 1 of x^(2^k) 2^(k-1), from Ertl's estimator; infinite at x = 1.</summary>
    private static double Sigma(double x)
    {
        if (x == 1)
        {
            return double.PositiveInfinity;
        }

        double y = 1;
        var z = x;
        double previous;
        do
        {
            x *= x;
            previous = z;
            z += x * y;
            y += y;
        }
        while (z != previous);

        return z;
    }

    /// <summary>tau(x) = (1 - x - sum over k >= 1 of (1 - x^(2^-k))^2 2^-k) / 3, from Ertl's estimator; 0 at x = 0 and x = 1.</summary>
    private static double Tau(double x)
    {
        if (x is 0 or 1)
        {
            return 0;
        }

        double y = 1;
        var z = 1 - x;
        double previous;
        do
        {
            x = Math.Sqrt(x);
            previous = z;
            y *= 0.5;
            z -= (1 - x) * (1 - x) * y;
        }
        while (z != previous);

        return z / 3;
    }
}
