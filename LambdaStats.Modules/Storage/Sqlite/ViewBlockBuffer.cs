using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using LambdaStats.Modules.Aggregation;

namespace LambdaStats.Modules.Storage.Sqlite;

/// <summary>A growable byte buffer that <see cref="ViewBlockCodec"/> writes a block into; reused from one block to the next.</summary>
/// <remarks>Not thread-safe.</remarks>
internal sealed class ViewBlockBuffer : IBufferWriter<byte>
{
    private byte[] data = new byte[4096];
    private Utf8JsonWriter? json;

    public int Length { get; private set; }

    public ReadOnlySpan<byte> Written => data.AsSpan(0, Length);

    public void Clear() => Length = 0;

    public void Advance(int count) => Length += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(Math.Max(sizeHint, 256));
        return data.AsMemory(Length);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(Math.Max(sizeHint, 256));
        return data.AsSpan(Length);
    }

    public void WriteByte(byte value)
    {
        Ensure(1);
        data[Length++] = value;
    }

    public void WriteVarUInt(ulong value)
    {
        Ensure(10);
        while (value >= 0x80)
        {
            data[Length++] = unchecked((byte)(value | 0x80));
            value >>= 7;
        }

        data[Length++] = (byte)value;
    }

    /// <summary>Writes a signed number in zigzag form, so small negative numbers stay short.</summary>
    public void WriteVarInt(long value) => WriteVarUInt(unchecked((ulong)((value << 1) ^ (value >> 63))));

    public void WriteDouble(double value)
    {
        Ensure(8);
        BinaryPrimitives.WriteDoubleLittleEndian(data.AsSpan(Length), value);
        Length += 8;
    }

    public void WriteString(string value)
    {
        var byteCount = Encoding.UTF8.GetByteCount(value);
        WriteVarUInt((uint)byteCount);
        Ensure(byteCount);
        Length += Encoding.UTF8.GetBytes(value, data.AsSpan(Length));
    }

    /// <summary>Leaves room for a 32-bit length and returns its position, for <see cref="EndLength"/>.</summary>
    public int BeginLength()
    {
        Ensure(4);
        var position = Length;
        Length += 4;
        return position;
    }

    /// <summary>Writes, at <paramref name="position"/>, the number of bytes written after it.</summary>
    public void EndLength(int position) =>
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(position), Length - position - 4);

    /// <summary>Writes the state of <paramref name="output"/> in its JSON form, as <see cref="Accumulator.WriteState"/> writes it.</summary>
    public void WriteJsonState(Accumulator output)
    {
        if (json is null)
        {
            json = new Utf8JsonWriter(this);
        }
        else
        {
            json.Reset(this);
        }

        output.WriteState(json);
        json.Flush();
    }

    private void Ensure(int extra)
    {
        if (Length + extra > data.Length)
        {
            Array.Resize(ref data, Math.Max(data.Length * 2, Length + extra));
        }
    }
}
