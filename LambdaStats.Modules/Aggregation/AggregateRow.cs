using System.Text.Json;
using LambdaStats.Modules.Events.Contracts;

namespace LambdaStats.Modules.Aggregation;

/// <summary>The states of all outputs of one aggregation for one key and bucket, in output order.</summary>
/// <remarks>Not thread-safe; callers synchronise.</remarks>
public sealed class AggregateRow
{
    private readonly Accumulator[] outputs;

    public AggregateRow(Accumulator[] outputs) => this.outputs = outputs;

    public IReadOnlyList<Accumulator> Outputs => outputs;

    public void Add(LambdaEvent e)
    {
        foreach (var output in outputs)
        {
            output.Add(e);
        }
    }

    public void Merge(AggregateRow other)
    {
        for (var i = 0; i < outputs.Length; i++)
        {
            outputs[i].Merge(other.outputs[i]);
        }
    }

    /// <summary>Folds this row into a total row made by <see cref="AggregationDefinition.CreateTotalRow"/>.</summary>
    public void AddToTotal(AggregateRow total)
    {
        for (var i = 0; i < outputs.Length; i++)
        {
            outputs[i].AddToTotal(total.outputs[i]);
        }
    }

    public AggregateRow Clone()
    {
        var copies = new Accumulator[outputs.Length];
        for (var i = 0; i < outputs.Length; i++)
        {
            copies[i] = outputs[i].Clone();
        }

        return new AggregateRow(copies);
    }

    /// <summary>Serialises the states as a JSON array in output order, the form views store.</summary>
    public byte[] SerializeState()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            foreach (var output in outputs)
            {
                output.WriteState(writer);
            }

            writer.WriteEndArray();
        }

        return buffer.ToArray();
    }

    /// <summary>Reads states written by <see cref="SerializeState"/> into a new row of <paramref name="definition"/>.</summary>
    public static AggregateRow DeserializeState(AggregationDefinition definition, ReadOnlySpan<byte> state)
    {
        var row = definition.CreateRow();
        var reader = new Utf8JsonReader(state);
        using var document = JsonDocument.ParseValue(ref reader);
        var index = 0;
        foreach (var element in document.RootElement.EnumerateArray())
        {
            if (index >= row.outputs.Length)
            {
                throw new FormatException($"Stored state of aggregation '{definition.Name}' has more outputs than its {row.outputs.Length} configured outputs.");
            }

            row.outputs[index++].ReadState(element);
        }

        if (index != row.outputs.Length)
        {
            throw new FormatException($"Stored state of aggregation '{definition.Name}' has {index} outputs, configuration has {row.outputs.Length}; recompute its views.");
        }

        return row;
    }

    public void WriteValues(Utf8JsonWriter writer, AggregationDefinition definition)
    {
        writer.WriteStartObject();
        for (var i = 0; i < outputs.Length; i++)
        {
            writer.WritePropertyName(definition.Outputs[i].Name);
            outputs[i].WriteValue(writer);
        }

        writer.WriteEndObject();
    }
}
