using System.Diagnostics.Metrics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Aggregation.Columns;
using LambdaStats.Modules.Common;
using LambdaStats.Modules.View.Contracts;
using Microsoft.Extensions.Logging;

namespace LambdaStats.Modules.Speed;

/// <summary>
/// Compares, before the speed layer releases an hour, its buffered rows with the rows the batch
/// computed for that hour. Both come from the same events through the same aggregators, so in a
/// correct system they never differ; a difference is logged and counted.
/// </summary>
internal sealed partial class DivergenceCheck : IDisposable
{
    public const string MeterName = "LambdaStats.Speed";
    private const int MaxLoggedPerHour = 10;

    private readonly Meter meter;
    private readonly Counter<long> divergences;
    private readonly ILogger<DivergenceCheck> logger;
    private long total;

    public DivergenceCheck(IMeterFactory meters, ILogger<DivergenceCheck> logger)
    {
        meter = meters.Create(MeterName);
        divergences = meter.CreateCounter<long>("lambdastats.speed.divergences", unit: "{key}", description: "Keys whose speed-layer row differed from the batch view when the hour was released.");
        this.logger = logger;
    }

    /// <summary>Divergent keys found since the process started.</summary>
    public long Total => Interlocked.Read(ref total);

    /// <summary>Compares one hour and returns the number of divergent keys.</summary>
    /// <remarks>
    /// Reads the speed layer's rows one hub at a time and looks each of their keys up in the
    /// batch's rows, so it keeps copies of one hub's speed rows at a time, never of the whole
    /// hour. An hour can contain hundreds of thousands of keys. Batch keys without a speed row
    /// are searched for only in the hubs whose speed rows matched fewer keys than the batch has.
    /// </remarks>
    /// <param name="containsHub">
    /// The hubs that <paramref name="batchRows"/> covers, for the slice of a sliced batch run; the
    /// speed rows of other hubs are then left to the other slices. Null: the whole hour.
    /// </param>
    public int Compare(AggregationDefinition definition, UtcHour hour, ISpeedHourRows speedRows, IReadOnlyDictionary<AggregationKey, AggregateRow> batchRows, Func<string, bool>? containsHub = null)
    {
        var count = 0;
        var batchKeysPerHub = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var key in batchRows.Keys)
        {
            CollectionsMarshal.GetValueRefOrAddDefault(batchKeysPerHub, key[0], out _)++;
        }

        // Hubs where some batch key has no speed row, with the speed rows of that hub.
        Dictionary<string, Dictionary<AggregationKey, AggregateRow>>? incompleteHubs = null;
        var hubRows = new Dictionary<AggregationKey, AggregateRow>();
        foreach (var (hubId, batchKeyCount) in batchKeysPerHub)
        {
            hubRows.Clear();
            speedRows.CopyHub(hubId, hubRows);
            var shared = CompareHub(definition, hour, hubRows, batchRows, ref count);
            if (shared < batchKeyCount)
            {
                (incompleteHubs ??= new(StringComparer.Ordinal)).Add(hubId, hubRows);
                hubRows = [];
            }
        }

        if (incompleteHubs is not null)
        {
            foreach (var (key, batchRow) in batchRows)
            {
                if (incompleteHubs.TryGetValue(key[0], out var rows) && !rows.ContainsKey(key))
                {
                    Report(definition, hour, key, null, batchRow, ref count);
                }
            }
        }

        var otherRows = new Dictionary<AggregationKey, AggregateRow>();
        speedRows.CopyOtherHubs(new HashSet<string>(batchKeysPerHub.Keys, StringComparer.Ordinal), containsHub, otherRows);
        foreach (var (key, speedRow) in otherRows)
        {
            Report(definition, hour, key, speedRow, null, ref count);
        }

        if (count > 0)
        {
            Interlocked.Add(ref total, count);
            divergences.Add(count, new KeyValuePair<string, object?>("aggregation", definition.Name));
        }

        return count;
    }

    public void Dispose() => meter.Dispose();

    /// <summary>
    /// Equal states, with numbers compared to a relative 1e-9: sums of fractional values may add
    /// in another order in the two layers and differ in the last bits.
    /// </summary>
    internal static bool AreEquivalent(AggregateRow left, AggregateRow right)
    {
        var leftOutputs = left.Outputs;
        var rightOutputs = right.Outputs;
        if (leftOutputs.Count != rightOutputs.Count)
        {
            return false;
        }

        for (var i = 0; i < leftOutputs.Count; i++)
        {
            if (!AreEquivalent(leftOutputs[i], rightOutputs[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Compares the states of the shipped accumulators field by field. Any other kind, such as a
    /// HyperLogLog distinctCount, is compared through its JSON state.
    /// </summary>
    private static bool AreEquivalent(Accumulator left, Accumulator right) => (left, right) switch
    {
        (CountAccumulator a, CountAccumulator b) => a.Value == b.Value,
        (AddAccumulator a, AddAccumulator b) => AreClose(a.Value, b.Value),
        (ExistsAccumulator a, ExistsAccumulator b) => a.Value == b.Value,
        (MinAccumulator a, MinAccumulator b) => AreClose(a.Value, b.Value),
        (MaxAccumulator a, MaxAccumulator b) => AreClose(a.Value, b.Value),
        (ProjectionAddAccumulator a, ProjectionAddAccumulator b) => AreClose(a.Groups, b.Groups),
        (ExactDistinctCountAccumulator a, ExactDistinctCountAccumulator b) => a.Values.SetEquals(b.Values),
        _ => AreStatesEquivalent(left, right),
    };

    /// <summary>Compares the JSON states that the view store would keep, numbers to a relative 1e-9.</summary>
    internal static bool AreStatesEquivalent(Accumulator left, Accumulator right)
    {
        var leftState = WriteState(left);
        var rightState = WriteState(right);
        return leftState.AsSpan().SequenceEqual(rightState)
            || AreEquivalent(JsonNode.Parse(leftState), JsonNode.Parse(rightState));
    }

    private static byte[] WriteState(Accumulator accumulator)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            accumulator.WriteState(writer);
        }

        return buffer.ToArray();
    }

    private void Report(AggregationDefinition definition, UtcHour hour, AggregationKey key, AggregateRow? speedRow, AggregateRow? batchRow, ref int count)
    {
        count++;
        if (count <= MaxLoggedPerHour)
        {
            Log.Divergence(logger, definition.Name, hour.Start, key.ToString(), Describe(definition, speedRow), Describe(definition, batchRow));
        }
    }

    /// <summary>Compares the speed rows of one hub with the batch's rows of the same keys, and returns how many of those keys the batch has.</summary>
    private int CompareHub(AggregationDefinition definition, UtcHour hour, Dictionary<AggregationKey, AggregateRow> hubRows, IReadOnlyDictionary<AggregationKey, AggregateRow> batchRows, ref int count)
    {
        var shared = 0;
        foreach (var (key, speedRow) in hubRows)
        {
            if (!batchRows.TryGetValue(key, out var batchRow))
            {
                Report(definition, hour, key, speedRow, null, ref count);
                continue;
            }

            shared++;
            if (!AreEquivalent(speedRow, batchRow))
            {
                Report(definition, hour, key, speedRow, batchRow, ref count);
            }
        }

        return shared;
    }

    private static bool AreClose(IReadOnlyDictionary<string, double> left, IReadOnlyDictionary<string, double> right)
    {
        if (left.Count != right.Count)
        {
            return false;
        }

        foreach (var (group, value) in left)
        {
            if (!right.TryGetValue(group, out var other) || !AreClose(value, other))
            {
                return false;
            }
        }

        return true;
    }

    private static bool AreClose(double? a, double? b) =>
        a is { } x && b is { } y ? AreClose(x, y) : a is null && b is null;

    private static bool AreEquivalent(JsonNode? left, JsonNode? right) => (left, right) switch
    {
        (null, null) => true,
        (JsonObject a, JsonObject b) => a.Count == b.Count && a.All(pair => b.TryGetPropertyValue(pair.Key, out var other) && AreEquivalent(pair.Value, other)),
        (JsonArray a, JsonArray b) => a.Count == b.Count && a.Zip(b).All(pair => AreEquivalent(pair.First, pair.Second)),
        (JsonValue a, JsonValue b) when a.GetValueKind() == JsonValueKind.Number && b.GetValueKind() == JsonValueKind.Number =>
            AreClose(double.Parse(a.ToJsonString(), CultureInfo.InvariantCulture), double.Parse(b.ToJsonString(), CultureInfo.InvariantCulture)),
        (JsonValue a, JsonValue b) => a.ToJsonString() == b.ToJsonString(),
        _ => false,
    };

    private static bool AreClose(double a, double b) =>
        a == b || Math.Abs(a - b) <= 1e-9 * Math.Max(Math.Abs(a), Math.Abs(b));

    private static string Describe(AggregationDefinition definition, AggregateRow? row)
    {
        if (row is null)
        {
            return "missing";
        }

        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            row.WriteValues(writer, definition);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3020, Level = LogLevel.Error, Message = "Speed and batch layers diverge for {Aggregation}, hour {Hour:yyyy-MM-dd'T'HH:mm:sszzz}, key {Key}: speed {SpeedValues}, batch {BatchValues}")]
        public static partial void Divergence(ILogger logger, string aggregation, DateTimeOffset hour, string key, string speedValues, string batchValues);
    }
}
