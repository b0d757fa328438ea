using System.Text;
using System.Text.Json;
using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Events.Contracts;

namespace LambdaStats.Tests.View;

/// <summary>A definition with every kind of output and a three-field key, and random rows for it.</summary>
internal static class ViewCacheTestSupport
{
    public static readonly DateTimeOffset Noon = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    /// <summary>Key (hub, media, visitor); outputs count, add, exists, projectionAdd, min, exact distinct count.</summary>
    public static AggregationDefinition EveryKind { get; } = new(
        "everyKind",
        EventType.PageViewed,
        [EventField.HubId, EventField.MediaId, EventField.VisitorId],
        [
            new OutputDefinition("views", AggregatorKind.Count),
            new OutputDefinition("seconds", AggregatorKind.Add, EventField.DurationSeconds),
            new OutputDefinition("seen", AggregatorKind.Exists),
            new OutputDefinition("byPage", AggregatorKind.ProjectionAdd, groupBy: EventField.Page),
            new OutputDefinition("shortest", AggregatorKind.Min, EventField.DurationSeconds),
            new OutputDefinition("sessions", AggregatorKind.DistinctCount, EventField.SessionId),
        ]);

    /// <summary>Key (hub, media); outputs count and exists, as mediaConsultations has.</summary>
    public static AggregationDefinition CountAndExists { get; } = new(
        "countAndExists",
        EventType.MediaOpened,
        [EventField.HubId, EventField.MediaId],
        [
            new OutputDefinition("opens", AggregatorKind.Count),
            new OutputDefinition("opened", AggregatorKind.Exists),
        ]);

    /// <summary>
    /// Rows by key built from random events of hub h1 (and a few of h2), over <paramref name="media"/>
    /// media and 3 visitors. Durations are whole halves, so sums are exact in any order.
    /// </summary>
    public static Dictionary<AggregationKey, AggregateRow> RandomRows(AggregationDefinition definition, Random random, int events, int media)
    {
        var rows = new Dictionary<AggregationKey, AggregateRow>();
        for (var i = 0; i < events; i++)
        {
            var e = new LambdaEvent
            {
                Id = $"e{i}",
                Type = definition.EventType,
                OccurredAt = Noon,
                HubId = random.Next(10) == 0 ? "h2" : "h1",
                MediaId = $"m{random.Next(media)}",
                VisitorId = $"v{random.Next(3)}",
                SessionId = $"s{random.Next(20)}",
                Page = random.Next(1, 6),
                DurationSeconds = random.Next(0, 40) * 0.5,
            };
            var key = definition.KeyOf(e);
            if (!rows.TryGetValue(key, out var row))
            {
                row = definition.CreateRow();
                rows.Add(key, row);
            }

            row.Add(e);
        }

        return rows;
    }

    /// <summary>The values of a row as JSON, for comparing results.</summary>
    public static string Json(AggregateRow row, AggregationDefinition definition)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            row.WriteValues(writer, definition);
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
