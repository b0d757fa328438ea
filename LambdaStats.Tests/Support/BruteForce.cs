using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.View.Contracts;

namespace LambdaStats.Tests.Support;

/// <summary>
/// Reference answers computed straight from a list of events, with code that shares nothing
/// with the aggregators under test, and a canonical JSON form to compare answers with.
/// </summary>
internal static class BruteForce
{
    public static string Answer(
        AggregationDefinition definition,
        IEnumerable<LambdaEvent> events,
        string hubId,
        DateTimeOffset from,
        DateTimeOffset to,
        string? groupBy = null,
        IReadOnlyDictionary<string, string>? filters = null,
        int limit = 100,
        TimeZoneInfo? zone = null,
        SeriesBucket? bucket = null)
    {
        var keyNames = definition.Key.Select(EventFields.JsonName).ToList();
        var matching = events
            .Where(e => e.Type == definition.EventType && e.HubId == hubId && e.OccurredAt >= from && e.OccurredAt < to)
            .Where(e => filters is null || filters.All(f => Field(e, f.Key) == f.Value))
            .ToList();
        var byKey = matching.GroupBy(e => string.Join("\u0001", keyNames.Select(k => Field(e, k)))).ToList();

        var result = new JsonObject { ["totals"] = Values(definition, byKey) };
        if (groupBy is not null)
        {
            var groups = byKey
                .GroupBy(keyGroup => Field(keyGroup.First(), groupBy))
                .Select(g => (Value: g.Key!, Values: Values(definition, g.ToList())))
                .OrderByDescending(g => SortValue(g.Values[definition.Outputs[0].Name]))
                .ThenBy(g => g.Value, StringComparer.Ordinal)
                .Take(limit)
                .Select(g => (JsonNode)new JsonObject { ["key"] = new JsonObject { [groupBy] = g.Value }, ["values"] = g.Values })
                .ToArray();
            result["groups"] = new JsonArray(groups);
        }

        if (bucket is { } size)
        {
            var boundaries = LocalBoundaries(from, to, zone ?? TimeZoneInfo.Utc, size);
            var points = new List<JsonNode>();
            for (var i = 0; i < boundaries.Count - 1; i++)
            {
                var (start, end) = (boundaries[i], boundaries[i + 1]);
                var inBucket = matching.Where(e => e.OccurredAt >= start && e.OccurredAt < end)
                    .GroupBy(e => string.Join("\u0001", keyNames.Select(k => Field(e, k))))
                    .ToList();
                points.Add(new JsonObject { ["start"] = start.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture), ["values"] = Values(definition, inBucket) });
            }

            result["series"] = new JsonArray(points.ToArray());
        }

        return Canonical(result);
    }

    /// <summary>
    /// Bucket boundaries found by walking the period a quarter of an hour at a time and keeping
    /// the instants whose local time is on the hour (or at midnight): every offset in use is a
    /// whole number of quarter hours. Independent of the service's own computation.
    /// </summary>
    public static List<DateTimeOffset> LocalBoundaries(DateTimeOffset from, DateTimeOffset to, TimeZoneInfo zone, SeriesBucket bucket)
    {
        var quarter = TimeSpan.FromMinutes(15);
        var boundaries = new List<DateTimeOffset> { from };
        var t = new DateTimeOffset(from.UtcTicks - from.UtcTicks % quarter.Ticks, TimeSpan.Zero);
        for (; t < to; t += quarter)
        {
            if (t <= from)
            {
                continue;
            }

            var local = TimeZoneInfo.ConvertTime(t, zone);
            var isBoundary = local.Minute == 0 && (bucket == SeriesBucket.Hour || local.Hour == 0);
            if (isBoundary)
            {
                boundaries.Add(t);
            }
        }

        boundaries.Add(to);
        return boundaries;
    }

    /// <summary>Canonical JSON of an answer's totals and groups, in the shape <see cref="Answer"/> returns.</summary>
    public static string Of(AggregationResult answer)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            LambdaStats.Web.Endpoints.AggregationJsonResult.Write(writer, answer);
        }

        var node = JsonNode.Parse(buffer.ToArray())!.AsObject();
        var reduced = new JsonObject { ["totals"] = node["totals"]!.DeepClone() };
        if (node["groups"] is { } groups)
        {
            reduced["groups"] = groups.DeepClone();
        }

        if (node["series"] is { } series)
        {
            reduced["series"] = series.DeepClone();
        }

        return Canonical(reduced);
    }

    public static string Canonical(JsonNode? node) => Normalise(node)?.ToJsonString() ?? "null";

    private static JsonObject Values(AggregationDefinition definition, IReadOnlyList<IGrouping<string, LambdaEvent>> keys)
    {
        var values = new JsonObject();
        foreach (var output in definition.Outputs)
        {
            var all = keys.SelectMany(k => k).ToList();
            values[output.Name] = output.Aggregator switch
            {
                AggregatorKind.Count => all.Count,
                AggregatorKind.Add => all.Sum(e => Number(e, output.Field!.Value) ?? 0),
                AggregatorKind.Exists => keys.Count(k => k.Any()),
                AggregatorKind.ProjectionAdd => Projection(all, output),
                AggregatorKind.Min => Numbers(all, output) is { Count: > 0 } numbers ? numbers.Min() : null,
                AggregatorKind.Max => Numbers(all, output) is { Count: > 0 } numbers ? numbers.Max() : null,
                AggregatorKind.DistinctCount => DistinctCount(all, output),
                _ => throw new NotSupportedException(output.Aggregator.ToString()),
            };
        }

        return values;
    }

    private static JsonObject Projection(IEnumerable<LambdaEvent> events, OutputDefinition output)
    {
        var map = new JsonObject();
        var sums = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach (var e in events)
        {
            var group = Field(e, EventFields.JsonName(output.GroupBy!.Value));
            if (group is null)
            {
                continue;
            }

            double amount = 1;
            if (output.Field is { } field)
            {
                if (Number(e, field) is not { } number)
                {
                    continue;
                }

                amount = number;
            }

            sums[group] = sums.GetValueOrDefault(group) + amount;
        }

        foreach (var (group, sum) in sums)
        {
            map[group] = sum;
        }

        return map;
    }

    private static List<double> Numbers(IEnumerable<LambdaEvent> events, OutputDefinition output) =>
        events.Select(e => Number(e, output.Field!.Value)).OfType<double>().ToList();

    /// <summary>Counts distinct values: numbers by value (so -0 equals 0), strings by ordinal text.</summary>
    private static int DistinctCount(IEnumerable<LambdaEvent> events, OutputDefinition output)
    {
        if (output.Mode != DistinctCountMode.Exact)
        {
            throw new NotSupportedException($"Output {output.Name} is a HyperLogLog estimate, which the reference does not compute.");
        }

        var field = output.Field!.Value;
        return EventFields.IsNumeric(field)
            ? events.Select(e => Number(e, field)).OfType<double>().Distinct().Count()
            : events.Select(e => Field(e, EventFields.JsonName(field))).OfType<string>().Distinct(StringComparer.Ordinal).Count();
    }

    /// <summary>The number groups sort by; a null value (min or max of no number) sorts last.</summary>
    private static double SortValue(JsonNode? node) => node switch
    {
        null => double.NegativeInfinity,
        JsonObject map => map.Sum(pair => double.Parse(pair.Value!.ToJsonString(), CultureInfo.InvariantCulture)),
        JsonValue value => double.Parse(value.ToJsonString(), CultureInfo.InvariantCulture),
        _ => 0,
    };

    private static string? Field(LambdaEvent e, string name) => name switch
    {
        "id" => e.Id,
        "hubId" => e.HubId,
        "mediaId" => e.MediaId,
        "visitorId" => e.VisitorId,
        "sessionId" => e.SessionId,
        "network" => e.Network,
        "contactKind" => e.ContactKind,
        "page" => e.Page?.ToString(CultureInfo.InvariantCulture),
        _ => throw new NotSupportedException($"Field {name} is not used by the reference."),
    };

    private static double? Number(LambdaEvent e, EventField field) => field switch
    {
        EventField.DurationSeconds => e.DurationSeconds,
        EventField.Page => e.Page,
        _ => null,
    };

    private static JsonNode? Normalise(JsonNode? node) => node switch
    {
        null => null,
        JsonObject obj => new JsonObject(obj.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Key, Normalise(p.Value)))),
        JsonArray array => new JsonArray(array.Select(Normalise).ToArray()),
        JsonValue value when value.GetValueKind() == JsonValueKind.Number => JsonValue.Create(decimal.Parse(value.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture).ToString("0.############", CultureInfo.InvariantCulture)),
        JsonValue value => JsonValue.Create(value.ToJsonString()),
        _ => node.DeepClone(),
    };
}
