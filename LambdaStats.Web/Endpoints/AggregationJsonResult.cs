using System.Text.Json;
using LambdaStats.Modules.View.Contracts;

namespace LambdaStats.Web.Endpoints;

/// <summary>Writes an <see cref="AggregationResult"/> in the documented answer shape.</summary>
internal sealed class AggregationJsonResult(AggregationResult result) : IResult
{
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.ContentType = "application/json; charset=utf-8";
        await using var writer = new Utf8JsonWriter(httpContext.Response.Body);
        Write(writer, result);
        await writer.FlushAsync(httpContext.RequestAborted);
    }

    public static void Write(Utf8JsonWriter writer, AggregationResult result)
    {
        var definition = result.Definition;
        var query = result.Query;
        writer.WriteStartObject();
        writer.WriteString("aggregation", definition.Name);
        writer.WriteString("hubId", query.HubId);
        writer.WriteString("from", JsonInstants.Format(query.From));
        writer.WriteString("to", JsonInstants.Format(query.To));
        if (result.Frontier.IsInitial)
        {
            writer.WriteNull("watermark");
            writer.WriteNull("finalUntil");
        }
        else
        {
            writer.WriteString("watermark", JsonInstants.Format(result.Frontier.Watermark.Start));
            writer.WriteString("finalUntil", JsonInstants.Format(result.Frontier.Watermark.Start));
        }

        if (result.ProvisionalFrom is { } provisionalFrom)
        {
            writer.WriteString("provisionalFrom", JsonInstants.Format(provisionalFrom));
        }
        else
        {
            writer.WriteNull("provisionalFrom");
        }

        writer.WriteBoolean("includesLateEvents", result.IncludesLateEvents);
        if (query.TimeZone is { } zone && zone != TimeZoneInfo.Utc)
        {
            writer.WriteString("tz", zone.Id);
        }

        if (query.KeyFilters.Count > 0)
        {
            writer.WriteStartObject("filters");
            foreach (var (field, value) in query.KeyFilters)
            {
                writer.WriteString(field, value);
            }

            writer.WriteEndObject();
        }

        writer.WritePropertyName("totals");
        result.Totals.WriteValues(writer, definition);
        if (query.GroupBy is not null)
        {
            writer.WriteStartArray("groups");
            foreach (var group in result.Groups)
            {
                writer.WriteStartObject();
                writer.WriteStartObject("key");
                writer.WriteString(group.Field, group.Value);
                writer.WriteEndObject();
                writer.WritePropertyName("values");
                group.Values.WriteValues(writer, definition);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        if (query.Bucket is { } bucket)
        {
            writer.WriteString("bucket", bucket == SeriesBucket.Hour ? "hour" : "day");
            writer.WriteStartArray("series");
            foreach (var point in result.Series)
            {
                writer.WriteStartObject();
                writer.WriteString("start", JsonInstants.Format(point.Start));
                writer.WritePropertyName("values");
                point.Values.WriteValues(writer, definition);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
    }
}
