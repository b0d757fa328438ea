using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Common;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.Speed.Contracts;
using LambdaStats.Modules.View.Contracts;

namespace LambdaStats.Modules.View;

internal sealed class StatusQueries(AggregationCatalog catalog, ISpeedLayer speed, IViewStore views, IEventStore events) : IStatusQueries
{
    public async Task<IReadOnlyList<AggregationStatus>> GetStatusAsync(CancellationToken cancellationToken)
    {
        var counts = new Dictionary<EventType, long>();
        var result = new List<AggregationStatus>();
        foreach (var definition in catalog.All)
        {
            if (!counts.TryGetValue(definition.EventType, out var count))
            {
                count = await events.CountAsync(definition.EventType, cancellationToken).ConfigureAwait(false);
                counts.Add(definition.EventType, count);
            }

            var frontier = await views.GetFrontierAsync(definition.ViewId, cancellationToken).ConfigureAwait(false);
            var hours = speed.GetHeldHours(definition.Name).Select(hour => hour.Start).ToList();
            result.Add(new AggregationStatus(
                definition.Name,
                definition.EventType.ToString(),
                frontier.IsInitial ? null : frontier.Watermark.Start,
                frontier.DailyWatermark == UtcDay.MinValue ? null : frontier.DailyWatermark.Start,
                frontier.Sequence,
                hours,
                count));
        }

        return result;
    }
}
