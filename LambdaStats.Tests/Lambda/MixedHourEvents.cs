using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Common;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.View.Contracts;
using LambdaStats.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace LambdaStats.Tests.Lambda;

/// <summary>
/// Random events of the five types that the shipped catalogue aggregates, and the hourly query
/// results of every aggregation of those types per hub: the input and the output of the tests that run
/// the batch two ways and compare.
/// </summary>
internal static class MixedHourEvents
{
    public static readonly EventType[] Types = [EventType.MediaOpened, EventType.PageViewed, EventType.MediaShared, EventType.MediaDownloaded, EventType.HubVisited];

    /// <summary>Returns <paramref name="count"/> events spread over <paramref name="hours"/> hours from <paramref name="from"/>, in <paramref name="hubs"/>.</summary>
    public static LambdaEvent[] Random(Random random, string idPrefix, int count, DateTimeOffset from, int hours, string[] hubs) =>
        Enumerable.Range(0, count)
            .Select(i => new LambdaEvent
            {
                Id = $"{idPrefix}-{i}",
                Type = Types[random.Next(Types.Length)],
                OccurredAt = from.AddSeconds(random.Next(hours * 3600)),
                HubId = hubs[random.Next(hubs.Length)],
                MediaId = $"m{random.Next(9)}",
                VisitorId = $"v{random.Next(15)}",
                Page = 1 + random.Next(6),
                DurationSeconds = random.Next(1, 300) / 10.0,
                Network = random.Next(2) == 0 ? "x" : "email",
            })
            .ToArray();

    /// <summary>
    /// Queries every aggregation of <see cref="Types"/> for each hub, by hour over
    /// [<paramref name="from"/>, <paramref name="from"/> + <paramref name="hours"/>), grouped by its
    /// second key field when it has one. Returns each result in the brute-force text form, by
    /// "aggregation hub". With <paramref name="expectedWatermark"/>, it also checks each answer's watermark.
    /// </summary>
    public static async Task<Dictionary<string, string>> HourlyAnswersAsync(LambdaCoreHarness harness, string[] hubs, DateTimeOffset from, int hours, UtcHour? expectedWatermark = null)
    {
        var answers = new Dictionary<string, string>();
        foreach (var definition in harness.Services.GetRequiredService<AggregationCatalog>().All.Where(definition => Types.Contains(definition.EventType)))
        {
            var groupBy = definition.Key.Count > 1 ? EventFields.JsonName(definition.Key[1]) : null;
            foreach (var hub in hubs)
            {
                var answer = await harness.QueryAsync(definition.Name, hub, from, from.AddHours(hours), groupBy, bucket: SeriesBucket.Hour);
                if (expectedWatermark is { } watermark)
                {
                    Assert.That(answer.Frontier.Watermark, Is.EqualTo(watermark), $"{definition.Name} watermark");
                }

                answers[$"{definition.Name} {hub}"] = BruteForce.Of(answer);
            }
        }

        return answers;
    }
}
