using System.Globalization;
using System.Text.Json;
using LambdaStats.Modules.Events.Contracts;

namespace LambdaStats.Modules.Aggregation;

/// <summary>
/// Exact number of distinct values of an event field, from the set of values; events without the
/// field add nothing. Merging is the union, so a total over several keys counts each value once.
/// </summary>
/// <remarks>
/// Memory and stored state grow with the number of distinct values per key and bucket. A numeric
/// field counts by value (see <see cref="DistinctValueText"/>).
/// </remarks>
public sealed class ExactDistinctCountAccumulator(EventField field) : Accumulator
{
    private readonly HashSet<string> values = new(StringComparer.Ordinal);

    public IReadOnlySet<string> Values => values;

    public override double SortValue => values.Count;

    public override void Add(LambdaEvent e)
    {
        if (!EventFields.IsNumeric(field))
        {
            if (EventFields.GetString(e, field) is { } value)
            {
                values.Add(value);
            }

            return;
        }

        Span<char> buffer = stackalloc char[DistinctValueText.MaxNumberLength];
        if (DistinctValueText.TryFormatNumber(e, field, buffer, out var length))
        {
            // The alternate lookup allocates a string only for a value not in the set yet.
            values.GetAlternateLookup<ReadOnlySpan<char>>().Add(buffer[..length]);
        }
    }

    public override void Merge(Accumulator other) => values.UnionWith(((ExactDistinctCountAccumulator)other).values);

    public override Accumulator Clone()
    {
        var copy = new ExactDistinctCountAccumulator(field);
        copy.values.UnionWith(values);
        return copy;
    }

    /// <summary>Adds one value, for state read back from a view store's binary form.</summary>
    internal void RestoreValue(string value) => values.Add(value);

    /// <summary>Writes the values as a JSON array in ordinal order, so equal sets store equal bytes.</summary>
    public override void WriteState(Utf8JsonWriter writer)
    {
        var sorted = values.ToArray();
        Array.Sort(sorted, StringComparer.Ordinal);
        writer.WriteStartArray();
        foreach (var value in sorted)
        {
            writer.WriteStringValue(value);
        }

        writer.WriteEndArray();
    }

    public override void ReadState(JsonElement state)
    {
        if (state.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException($"An exact distinctCount state must be a JSON array of values, got {state.ValueKind}; the output's mode may have changed, so recompute its views.");
        }

        values.Clear();
        foreach (var element in state.EnumerateArray())
        {
            values.Add(element.GetString() ?? throw new FormatException("Invalid exact distinctCount state: it contains null where only strings are valid; recompute its views."));
        }
    }

    public override void WriteValue(Utf8JsonWriter writer) => writer.WriteNumberValue(values.Count);
}

/// <summary>
/// Estimated number of distinct values of an event field, from a <see cref="HyperLogLogSketch"/>;
/// events without the field add nothing. The relative standard error is about
/// 1.04 / sqrt(2^precision), 0.81% at the default precision 14. Merging is the union, so a total
/// over several keys counts each value once.
/// </summary>
/// <remarks>A numeric field counts by value (see <see cref="DistinctValueText"/>).</remarks>
public sealed class HyperLogLogDistinctCountAccumulator : Accumulator
{
    private readonly EventField field;

    public HyperLogLogDistinctCountAccumulator(EventField field, int precision = HyperLogLogSketch.DefaultPrecision)
        : this(field, new HyperLogLogSketch(precision))
    {
    }

    private HyperLogLogDistinctCountAccumulator(EventField field, HyperLogLogSketch sketch)
    {
        this.field = field;
        Sketch = sketch;
    }

    public HyperLogLogSketch Sketch { get; }

    /// <summary>The estimate rounded to a whole number, as answers show it.</summary>
    public override double SortValue => Sketch.EstimateCount();

    public override void Add(LambdaEvent e)
    {
        if (!EventFields.IsNumeric(field))
        {
            if (EventFields.GetString(e, field) is { } value)
            {
                Sketch.Add(value);
            }

            return;
        }

        Span<char> buffer = stackalloc char[DistinctValueText.MaxNumberLength];
        if (DistinctValueText.TryFormatNumber(e, field, buffer, out var length))
        {
            Sketch.Add(buffer[..length]);
        }
    }

    public override void Merge(Accumulator other) => Sketch.Merge(((HyperLogLogDistinctCountAccumulator)other).Sketch);

    public override Accumulator Clone() => new HyperLogLogDistinctCountAccumulator(field, Sketch.Clone());

    public override void WriteState(Utf8JsonWriter writer) => Sketch.WriteState(writer);

    public override void ReadState(JsonElement state) => Sketch.ReadState(state);

    public override void WriteValue(Utf8JsonWriter writer) => writer.WriteNumberValue(Sketch.EstimateCount());
}

/// <summary>
/// The text under which distinct counts take a numeric field: the shortest form that round-trips
/// ("R", invariant culture), with -0 written as 0, so equal numbers give equal text. A page number
/// reads as its integer ("3").
/// </summary>
internal static class DistinctValueText
{
    /// <summary>Enough characters for any double in "R" form, such as -1.7976931348623157E+308.</summary>
    public const int MaxNumberLength = 32;

    /// <summary>Formats the field into <paramref name="destination"/>; returns false when the event does not carry it.</summary>
    public static bool TryFormatNumber(LambdaEvent e, EventField field, Span<char> destination, out int length)
    {
        if (EventFields.GetNumber(e, field) is not { } number)
        {
            length = 0;
            return false;
        }

        // Adding +0 turns -0 into +0 and leaves every other value as it is.
        return (number + 0.0).TryFormat(destination, out length, "R", CultureInfo.InvariantCulture);
    }
}
