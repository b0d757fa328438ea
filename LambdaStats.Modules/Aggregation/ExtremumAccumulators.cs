using System.Text.Json;
using LambdaStats.Modules.Events.Contracts;

namespace LambdaStats.Modules.Aggregation;

/// <summary>Minimum of a numeric field; null until an event carries the field.</summary>
public sealed class MinAccumulator(EventField field) : Accumulator
{
    public double? Value { get; private set; }

    /// <summary>The minimum, or negative infinity when there is none, so groups without a value sort last.</summary>
    public override double SortValue => Value ?? double.NegativeInfinity;

    public override void Add(LambdaEvent e)
    {
        if (EventFields.GetNumber(e, field) is { } number)
        {
            Value = Value is { } current ? Math.Min(current, number) : number;
        }
    }

    public override void Merge(Accumulator other)
    {
        if (((MinAccumulator)other).Value is { } number)
        {
            Value = Value is { } current ? Math.Min(current, number) : number;
        }
    }

    public override Accumulator Clone() => new MinAccumulator(field) { Value = Value };

    /// <summary>Sets the state read back from a view store's binary form.</summary>
    internal void Restore(double? value) => Value = value;

    public override void WriteState(Utf8JsonWriter writer) => WriteValue(writer);

    public override void ReadState(JsonElement state) =>
        Value = state.ValueKind == JsonValueKind.Null ? null : state.GetDouble();

    public override void WriteValue(Utf8JsonWriter writer)
    {
        if (Value is { } value)
        {
            writer.WriteNumberValue(value);
        }
        else
        {
            writer.WriteNullValue();
        }
    }
}

/// <summary>Maximum of a numeric field; null until an event carries the field.</summary>
public sealed class MaxAccumulator(EventField field) : Accumulator
{
    public double? Value { get; private set; }

    /// <summary>The maximum, or negative infinity when there is none, so groups without a value sort last.</summary>
    public override double SortValue => Value ?? double.NegativeInfinity;

    public override void Add(LambdaEvent e)
    {
        if (EventFields.GetNumber(e, field) is { } number)
        {
            Value = Value is { } current ? Math.Max(current, number) : number;
        }
    }

    public override void Merge(Accumulator other)
    {
        if (((MaxAccumulator)other).Value is { } number)
        {
            Value = Value is { } current ? Math.Max(current, number) : number;
        }
    }

    public override Accumulator Clone() => new MaxAccumulator(field) { Value = Value };

    /// <summary>Sets the state read back from a view store's binary form.</summary>
    internal void Restore(double? value) => Value = value;

    public override void WriteState(Utf8JsonWriter writer) => WriteValue(writer);

    public override void ReadState(JsonElement state) =>
        Value = state.ValueKind == JsonValueKind.Null ? null : state.GetDouble();

    public override void WriteValue(Utf8JsonWriter writer)
    {
        if (Value is { } value)
        {
            writer.WriteNumberValue(value);
        }
        else
        {
            writer.WriteNullValue();
        }
    }
}
