using System.Text;
using System.Text.Json;
using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Events.Contracts;

namespace LambdaStats.Tests.Aggregation;

/// <summary>Builds events and accumulators for the aggregation tests and reads their JSON.</summary>
internal static class AccumulatorTestSupport
{
    public static readonly DateTimeOffset Noon = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static int nextId;

    /// <summary>
    /// Creates page events with visitors drawn from v0 to v(visitorPool - 1), pages 1 to 30 and
    /// durations in half seconds. One event in eight lacks each field.
    /// </summary>
    public static List<LambdaEvent> CreateEvents(int seed, int count, int visitorPool)
    {
        var random = new Random(seed);
        var events = new List<LambdaEvent>(count);
        for (var i = 0; i < count; i++)
        {
            events.Add(new LambdaEvent
            {
                Id = $"e{seed}-{i}",
                Type = EventType.PageViewed,
                OccurredAt = Noon,
                HubId = "h1",
                MediaId = "m1",
                VisitorId = random.Next(8) == 0 ? null : $"v{random.Next(visitorPool)}",
                Page = random.Next(8) == 0 ? null : random.Next(1, 31),
                DurationSeconds = random.Next(8) == 0 ? null : random.Next(0, 160) * 0.5,
            });
        }

        return events;
    }

    public static LambdaEvent Event(string? visitorId = null, int? page = null, double? durationSeconds = null, string mediaId = "m1") => new()
    {
        Id = $"single-{Interlocked.Increment(ref nextId)}",
        Type = EventType.PageViewed,
        OccurredAt = Noon,
        HubId = "h1",
        MediaId = mediaId,
        VisitorId = visitorId,
        Page = page,
        DurationSeconds = durationSeconds,
    };

    /// <summary>An aggregation over page events keyed by hub and medium, with the given outputs.</summary>
    public static AggregationDefinition Definition(params OutputDefinition[] outputs) =>
        new("test", EventType.PageViewed, [EventField.HubId, EventField.MediaId], outputs);

    public static Accumulator AddAll(OutputDefinition output, IEnumerable<LambdaEvent> events)
    {
        var accumulator = output.CreateAccumulator();
        foreach (var e in events)
        {
            accumulator.Add(e);
        }

        return accumulator;
    }

    /// <summary>Returns a merge of copies, leaving both operands unchanged.</summary>
    public static Accumulator Merged(Accumulator left, Accumulator right)
    {
        var result = left.Clone();
        result.Merge(right);
        return result;
    }

    /// <summary>The state as views store it: the JSON of a one-output <see cref="AggregateRow"/>.</summary>
    public static string State(Accumulator accumulator) =>
        Encoding.UTF8.GetString(new AggregateRow([accumulator]).SerializeState());

    /// <summary>The value as answers show it.</summary>
    public static string Value(Accumulator accumulator)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            accumulator.WriteValue(writer);
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Reads a stored state back through <see cref="AggregateRow.DeserializeState"/>.</summary>
    public static Accumulator RoundTrip(OutputDefinition output, Accumulator accumulator)
    {
        var state = new AggregateRow([accumulator]).SerializeState();
        return AggregateRow.DeserializeState(Definition(output), state).Outputs[0];
    }
}
