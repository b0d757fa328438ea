using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using LambdaStats.Modules.Aggregation;

namespace LambdaStats.Modules.Storage.Sqlite;

/// <summary>
/// Binary form of the rows of one hub in one bucket of one aggregation: the block that
/// <see cref="SqliteViewStore"/> stores in one table row.
/// </summary>
/// <remarks>
/// Layout, little-endian, where varint is LEB128 and string is a varint byte count then UTF-8:
/// <code>
/// byte     format (1)
/// varint   number of keys
/// per key: string per key field after the hub (the hub is the table row's)
///          int32 byte count of the states that follow, so a read can skip a key
///          per output, in output order:
///            count             zigzag varint
///            add               float64
///            exists            byte 0 or 1
///            min, max          byte 0 (none) or 1 followed by float64
///            projectionAdd     varint n, then n × (string group, float64 value)
///            distinctCount     varint n, then n × string (exact mode)
///            anything else     int32 byte count, then the JSON of Accumulator.WriteState
/// </code>
/// The aggregation's view id fingerprints its outputs, so a block is only ever read with the
/// outputs that wrote it.
/// </remarks>
internal static class ViewBlockCodec
{
    public const byte Format = 1;

    public static void Write(ViewBlockBuffer buffer, List<KeyValuePair<AggregationKey, AggregateRow>> rows)
    {
        buffer.WriteByte(Format);
        buffer.WriteVarUInt((uint)rows.Count);
        foreach (var (key, row) in rows)
        {
            for (var i = 1; i < key.Count; i++)
            {
                buffer.WriteString(key[i]);
            }

            var statesLength = buffer.BeginLength();
            foreach (var output in row.Outputs)
            {
                WriteState(buffer, output);
            }

            buffer.EndLength(statesLength);
        }
    }

    /// <summary>
    /// Decodes the keys of <paramref name="block"/> that <paramref name="filter"/> accepts (all when
    /// null) and hands each to <paramref name="add"/>, with <paramref name="hub"/> as key field 0.
    /// </summary>
    /// <exception cref="FormatException">The block is not in this format or is cut short.</exception>
    public static void Read(
        ReadOnlySpan<byte> block,
        AggregationDefinition aggregation,
        string hub,
        KeyConditionBytes[]? filter,
        Utf8StringPool strings,
        Action<AggregationKey, AggregateRow> add)
    {
        try
        {
            ReadBlock(block, aggregation, hub, filter, strings, add);
        }
        catch (Exception exception) when (exception is ArgumentOutOfRangeException or IndexOutOfRangeException or OverflowException or JsonException)
        {
            throw new FormatException($"A stored view block of aggregation '{aggregation.Name}' for hub '{hub}' is damaged or cut short; recompute its views.", exception);
        }
    }

    /// <summary>Encodes the conditions of <paramref name="filter"/> after the hub as UTF-8, to compare with stored key fields.</summary>
    public static KeyConditionBytes[]? EncodeConditions(KeyFilter filter) =>
        filter.Others.Count == 0
            ? null
            : filter.Others.Select(condition => new KeyConditionBytes(condition.Index, Encoding.UTF8.GetBytes(condition.Value))).ToArray();

    private static void ReadBlock(
        ReadOnlySpan<byte> block,
        AggregationDefinition aggregation,
        string hub,
        KeyConditionBytes[]? filter,
        Utf8StringPool strings,
        Action<AggregationKey, AggregateRow> add)
    {
        var reader = new Reader(block);
        var format = reader.ReadByte();
        if (format != Format)
        {
            throw new FormatException($"A stored view block of aggregation '{aggregation.Name}' has format {format}, but this build reads format {Format}; recompute its views.");
        }

        var keyCount = reader.ReadVarUInt();
        var fieldCount = aggregation.Key.Count;
        var values = new string[fieldCount];
        values[0] = hub;
        Span<Range> fields = stackalloc Range[AggregationKey.MaxFields];
        for (ulong k = 0; k < keyCount; k++)
        {
            for (var i = 1; i < fieldCount; i++)
            {
                fields[i] = reader.ReadStringRange();
            }

            var statesLength = reader.ReadInt32();
            if (!Matches(block, fields, filter))
            {
                reader.Skip(statesLength);
                continue;
            }

            for (var i = 1; i < fieldCount; i++)
            {
                values[i] = strings.Get(block[fields[i]]);
            }

            var row = aggregation.CreateRow();
            foreach (var output in row.Outputs)
            {
                ReadState(ref reader, output, strings);
            }

            add(new AggregationKey(values), row);
        }

        if (!reader.AtEnd)
        {
            throw new FormatException($"A stored view block of aggregation '{aggregation.Name}' for hub '{hub}' has bytes after its last key; recompute its views.");
        }
    }

    private static bool Matches(ReadOnlySpan<byte> block, ReadOnlySpan<Range> fields, KeyConditionBytes[]? filter)
    {
        if (filter is null)
        {
            return true;
        }

        foreach (var condition in filter)
        {
            if (!block[fields[condition.Index]].SequenceEqual(condition.Value))
            {
                return false;
            }
        }

        return true;
    }

    private static void WriteState(ViewBlockBuffer buffer, Accumulator output)
    {
        switch (output)
        {
            case CountAccumulator count:
                buffer.WriteVarInt(count.Value);
                break;
            case AddAccumulator sum:
                buffer.WriteDouble(sum.Value);
                break;
            case ExistsAccumulator exists:
                buffer.WriteByte(exists.Value ? (byte)1 : (byte)0);
                break;
            case MinAccumulator min:
                WriteOptional(buffer, min.Value);
                break;
            case MaxAccumulator max:
                WriteOptional(buffer, max.Value);
                break;
            case ProjectionAddAccumulator projection:
                buffer.WriteVarUInt((uint)projection.Groups.Count);
                foreach (var (group, value) in projection.Groups)
                {
                    buffer.WriteString(group);
                    buffer.WriteDouble(value);
                }

                break;
            case ExactDistinctCountAccumulator distinct:
                buffer.WriteVarUInt((uint)distinct.Values.Count);
                foreach (var value in distinct.Values)
                {
                    buffer.WriteString(value);
                }

                break;
            default:
                var jsonLength = buffer.BeginLength();
                buffer.WriteJsonState(output);
                buffer.EndLength(jsonLength);
                break;
        }
    }

    private static void ReadState(ref Reader reader, Accumulator output, Utf8StringPool strings)
    {
        switch (output)
        {
            case CountAccumulator count:
                count.Restore(reader.ReadVarInt());
                break;
            case AddAccumulator sum:
                sum.Restore(reader.ReadDouble());
                break;
            case ExistsAccumulator exists:
                exists.Restore(reader.ReadByte() != 0);
                break;
            case MinAccumulator min:
                min.Restore(ReadOptional(ref reader));
                break;
            case MaxAccumulator max:
                max.Restore(ReadOptional(ref reader));
                break;
            case ProjectionAddAccumulator projection:
                for (var n = reader.ReadVarUInt(); n > 0; n--)
                {
                    var group = strings.Get(reader.ReadString());
                    projection.RestoreGroup(group, reader.ReadDouble());
                }

                break;
            case ExactDistinctCountAccumulator distinct:
                for (var n = reader.ReadVarUInt(); n > 0; n--)
                {
                    distinct.RestoreValue(strings.Get(reader.ReadString()));
                }

                break;
            default:
                var json = new Utf8JsonReader(reader.ReadBytes(reader.ReadInt32()));
                using (var document = JsonDocument.ParseValue(ref json))
                {
                    output.ReadState(document.RootElement);
                }

                break;
        }
    }

    private static void WriteOptional(ViewBlockBuffer buffer, double? value)
    {
        buffer.WriteByte(value is null ? (byte)0 : (byte)1);
        if (value is { } number)
        {
            buffer.WriteDouble(number);
        }
    }

    private static double? ReadOptional(ref Reader reader) => reader.ReadByte() == 0 ? null : reader.ReadDouble();

    /// <summary>Reads the layout above; running past the end throws <see cref="ArgumentOutOfRangeException"/>.</summary>
    private ref struct Reader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> data = data;
        private int position;

        public readonly bool AtEnd => position == data.Length;

        public byte ReadByte() => data[position++];

        public ulong ReadVarUInt()
        {
            ulong value = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                var b = data[position++];
                value |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return value;
                }
            }

            throw new ArgumentOutOfRangeException(nameof(data), "A variable-length number runs past 64 bits.");
        }

        public long ReadVarInt()
        {
            var zigzag = ReadVarUInt();
            return unchecked((long)(zigzag >> 1) ^ -(long)(zigzag & 1));
        }

        public double ReadDouble()
        {
            var value = BinaryPrimitives.ReadDoubleLittleEndian(data.Slice(position, 8));
            position += 8;
            return value;
        }

        public int ReadInt32()
        {
            var value = BinaryPrimitives.ReadInt32LittleEndian(data.Slice(position, 4));
            position += 4;
            return value;
        }

        public ReadOnlySpan<byte> ReadBytes(int length)
        {
            var bytes = data.Slice(position, length);
            position += length;
            return bytes;
        }

        public void Skip(int length) => ReadBytes(length);

        public ReadOnlySpan<byte> ReadString() => ReadBytes(checked((int)ReadVarUInt()));

        /// <summary>Reads a string's bytes and returns where they are in the block.</summary>
        public Range ReadStringRange()
        {
            var length = checked((int)ReadVarUInt());
            var start = position;
            ReadBytes(length);
            return start..(start + length);
        }
    }
}

/// <summary>A key condition with its value as UTF-8, as <see cref="ViewBlockCodec"/> compares it.</summary>
internal readonly record struct KeyConditionBytes(int Index, byte[] Value);
