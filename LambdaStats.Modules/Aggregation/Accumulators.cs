using System.Globalization;
using System.Text.Json;
using LambdaStats.Modules.Events.Contracts;

namespace LambdaStats.Modules.Aggregation;

/// <summary>Number of events.</summary>
public sealed class CountAccumulator : Accumulator
{
    public long Value { get; private set; }

    public override double SortValue => Value;

    public override void Add(LambdaEvent e) => Value++;

    public void Increment() => Value++;

    /// <summary>Adds <paramref name="count"/> events at once, as a merge of a stored count does.</summary>
    internal void AddCount(long count) => Value += count;

    /// <summary>Sets the state read back from a view store's binary form.</summary>
    internal void Restore(long value) => Value = value;

    /// <summary>Creates a count of <paramref name="value"/> events, for states kept outside accumulators.</summary>
    public static CountAccumulator FromValue(long value) => new() { Value = value };

    public override void Merge(Accumulator other) => Value += ((CountAccumulator)other).Value;

    public override Accumulator Clone() => new CountAccumulator { Value = Value };

    public override void WriteState(Utf8JsonWriter writer) => writer.WriteNumberValue(Value);

    public override void ReadState(JsonElement state) => Value = state.GetInt64();

    public override void WriteValue(Utf8JsonWriter writer) => writer.WriteNumberValue(Value);
}

/// <summary>Sum of a numeric field; events without the field add nothing.</summary>
public sealed class AddAccumulator(EventField field) : Accumulator
{
    public double Value { get; private set; }

    public override double SortValue => Value;

    public override void Add(LambdaEvent e)
    {
        if (EventFields.GetNumber(e, field) is { } number)
        {
            Value += number;
        }
    }

    public override void Merge(Accumulator other) => Value += ((AddAccumulator)other).Value;

    /// <summary>Adds a stored sum, as a merge does.</summary>
    internal void AddAmount(double amount) => Value += amount;

    /// <summary>Creates a sum of <paramref name="field"/> equal to <paramref name="value"/>, for states kept outside accumulators.</summary>
    public static AddAccumulator FromValue(EventField field, double value) => new(field) { Value = value };

    public override Accumulator Clone() => new AddAccumulator(field) { Value = Value };

    /// <summary>Sets the state read back from a view store's binary form.</summary>
    internal void Restore(double value) => Value = value;

    public override void WriteState(Utf8JsonWriter writer) => writer.WriteNumberValue(Value);

    public override void ReadState(JsonElement state) => Value = state.GetDouble();

    public override void WriteValue(Utf8JsonWriter writer) => writer.WriteNumberValue(Value);
}

/// <summary>Whether at least one event occurred.</summary>
public sealed class ExistsAccumulator : Accumulator
{
    public bool Value { get; private set; }

    public override double SortValue => Value ? 1 : 0;

    public override void Add(LambdaEvent e) => Value = true;

    public override void Merge(Accumulator other) => Value |= ((ExistsAccumulator)other).Value;

    /// <summary>Creates a state set to <paramref name="value"/>, for states kept outside accumulators.</summary>
    public static ExistsAccumulator FromValue(bool value) => new() { Value = value };

    public override Accumulator Clone() => new ExistsAccumulator { Value = Value };

    /// <summary>Sets the state read back from a view store's binary form.</summary>
    internal void Restore(bool value) => Value = value;

    public override void WriteState(Utf8JsonWriter writer) => writer.WriteBooleanValue(Value);

    public override void ReadState(JsonElement state) => Value = state.GetBoolean();

    public override void WriteValue(Utf8JsonWriter writer) => writer.WriteBooleanValue(Value);

    public override void AddToTotal(Accumulator total)
    {
        if (Value)
        {
            ((CountAccumulator)total).Increment();
        }
    }
}

/// <summary>
/// Map from the values of a group field to the sum of a numeric field, or to the number of
/// events when no numeric field is set. Events without the group field add nothing.
/// </summary>
public sealed class ProjectionAddAccumulator(EventField groupBy, EventField? field) : Accumulator
{
    private readonly Dictionary<string, double> groups = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, double> Groups => groups;

    public override double SortValue
    {
        get
        {
            var sum = 0.0;
            foreach (var value in groups.Values)
            {
                sum += value;
            }

            return sum;
        }
    }

    public override void Add(LambdaEvent e)
    {
        if (TryReadGroup(e, groupBy, field, out var group, out var amount))
        {
            System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(groups, group, out _) += amount;
        }
    }

    /// <summary>
    /// Reads the group and the amount that an event adds to a projection: false when the event
    /// lacks the group field, or the numeric field when one is set. Without a numeric field the amount is 1.
    /// </summary>
    internal static bool TryReadGroup(LambdaEvent e, EventField groupBy, EventField? field, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? group, out double amount)
    {
        amount = 1;
        group = EventFields.GetString(e, groupBy);
        if (group is null)
        {
            return false;
        }

        if (field is { } numericField)
        {
            if (EventFields.GetNumber(e, numericField) is not { } number)
            {
                return false;
            }

            amount = number;
        }

        return true;
    }

    /// <summary>Adds <paramref name="amount"/> to the sum of <paramref name="group"/>, for states kept outside accumulators.</summary>
    public void AddToGroup(string group, double amount) =>
        System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(groups, group, out _) += amount;

    public override void Merge(Accumulator other)
    {
        foreach (var (group, value) in ((ProjectionAddAccumulator)other).groups)
        {
            System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(groups, group, out _) += value;
        }
    }

    public override Accumulator Clone()
    {
        var copy = new ProjectionAddAccumulator(groupBy, field);
        copy.Merge(this);
        return copy;
    }

    /// <summary>Sets one group's value, for state read back from a view store's binary form.</summary>
    internal void RestoreGroup(string group, double value) => groups[group] = value;

    public override void WriteState(Utf8JsonWriter writer) => WriteValue(writer);

    public override void ReadState(JsonElement state)
    {
        groups.Clear();
        foreach (var property in state.EnumerateObject())
        {
            groups[property.Name] = property.Value.GetDouble();
        }
    }

    public override void WriteValue(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        foreach (var (group, value) in groups.OrderBy(pair => pair.Key, GroupKeyComparer.Instance))
        {
            writer.WriteNumber(group, value);
        }

        writer.WriteEndObject();
    }

    /// <summary>Orders numeric group names (pages) by number, then the rest by ordinal text.</summary>
    private sealed class GroupKeyComparer : IComparer<string>
    {
        public static readonly GroupKeyComparer Instance = new();

        public int Compare(string? x, string? y)
        {
            var xIsNumber = long.TryParse(x, NumberStyles.None, CultureInfo.InvariantCulture, out var xNumber);
            var yIsNumber = long.TryParse(y, NumberStyles.None, CultureInfo.InvariantCulture, out var yNumber);
            if (xIsNumber && yIsNumber)
            {
                return xNumber.CompareTo(yNumber);
            }

            if (xIsNumber != yIsNumber)
            {
                return xIsNumber ? -1 : 1;
            }

            return string.CompareOrdinal(x, y);
        }
    }
}
