using System.Globalization;
using System.Text.Json;
using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.View.Contracts;

namespace LambdaStats.Web.Endpoints;

/// <summary><c>GET /api/hubs/{hubId}/aggregations/{name}</c> and the list of aggregations.</summary>
internal static class AggregationEndpoints
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 10_000;

    /// <summary>Bounds of from and to: a day inside the range of <see cref="DateTimeOffset"/>, so hour arithmetic never overflows.</summary>
    private static readonly DateTimeOffset MinInstant = new(1, 1, 2, 0, 0, 0, TimeSpan.Zero);

    private static readonly DateTimeOffset MaxInstant = new(9999, 12, 30, 0, 0, 0, TimeSpan.Zero);

    private static readonly HashSet<string> ReservedParameters = new(StringComparer.Ordinal) { "from", "to", "groupBy", "limit", "tz", "bucket" };

    public static IEndpointRouteBuilder MapAggregationEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/hubs/{hubId}/aggregations/{name}", QueryAsync).WithName("QueryAggregation");
        app.MapGet("/api/aggregations", ListAggregations).WithName("ListAggregations");
        return app;
    }

    private static IResult ListAggregations(AggregationCatalog catalog) =>
        Results.Ok(catalog.All.Select(definition => new
        {
            name = definition.Name,
            eventType = definition.EventType.ToString(),
            key = definition.Key.Select(EventFields.JsonName),
            speedLayer = definition.SpeedLayer,
            outputs = definition.Outputs.Select(output => new
            {
                name = output.Name,
                aggregator = JsonNamingPolicy.CamelCase.ConvertName(output.Aggregator.ToString()),
                field = output.Field is { } field ? EventFields.JsonName(field) : null,
                groupBy = output.GroupBy is { } groupBy ? EventFields.JsonName(groupBy) : null,
                mode = output.Mode is { } mode ? DistinctCountModes.Name(mode) : null,
                precision = output.Precision,
            }),
        }));

    private static async Task<IResult> QueryAsync(
        string hubId,
        string name,
        HttpContext context,
        IAggregationQueries queries,
        TimeProvider clock,
        CancellationToken cancellationToken)
    {
        var parameters = context.Request.Query;

        // A repeated filter would otherwise reach the query as the joined text "m1,m2" and match nothing.
        if (parameters.FirstOrDefault(pair => pair.Value.Count > 1) is { Key: not null } repeated)
        {
            var hint = ReservedParameters.Contains(repeated.Key) ? string.Empty : " A key filter takes one value.";
            return BadParameter(repeated.Key, $"{repeated.Key} is given {repeated.Value.Count} times; give each parameter once.{hint}");
        }

        if (!TryReadInstant(parameters, "from", out var from, out var error))
        {
            return error!;
        }

        DateTimeOffset to;
        if (parameters.ContainsKey("to"))
        {
            if (!TryReadInstant(parameters, "to", out to, out error))
            {
                return error!;
            }
        }
        else
        {
            to = clock.GetUtcNow();
        }

        var limit = DefaultLimit;
        if (parameters.TryGetValue("limit", out var limitText)
            && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > MaxLimit))
        {
            return BadParameter("limit", $"limit must be an integer from 1 to {MaxLimit}, got '{limitText}'.");
        }

        var filters = parameters
            .Where(pair => !ReservedParameters.Contains(pair.Key))
            .ToDictionary(pair => pair.Key, pair => pair.Value.ToString(), StringComparer.Ordinal);
        string? groupBy = parameters.TryGetValue("groupBy", out var groupByText) ? groupByText.ToString() : null;

        var zone = TimeZoneInfo.Utc;
        if (parameters.TryGetValue("tz", out var zoneText) && !TimeZoneInfo.TryFindSystemTimeZoneById(zoneText.ToString(), out zone!))
        {
            return BadParameter("tz", $"tz '{zoneText}' is not a known IANA time zone, for example Europe/Paris or UTC.");
        }

        SeriesBucket? bucket = null;
        if (parameters.TryGetValue("bucket", out var bucketText))
        {
            bucket = bucketText.ToString() switch
            {
                "hour" => SeriesBucket.Hour,
                "day" => SeriesBucket.Day,
                _ => null,
            };
            if (bucket is null)
            {
                return BadParameter("bucket", $"bucket must be 'hour' or 'day', got '{bucketText}'.");
            }
        }

        var query = new AggregationQuery(name, hubId, filters, from, to, groupBy, limit, zone, bucket);
        try
        {
            var result = await queries.QueryAsync(query, cancellationToken);
            return new AggregationJsonResult(result);
        }
        catch (AggregationNotFoundException exception)
        {
            return Results.Problem(
                statusCode: StatusCodes.Status404NotFound,
                title: "Unknown aggregation.",
                detail: exception.Message,
                extensions: new Dictionary<string, object?> { ["known"] = exception.Known });
        }
        catch (InvalidQueryException exception)
        {
            return BadParameter(exception.Parameter, exception.Message);
        }
    }

    private static bool TryReadInstant(IQueryCollection parameters, string name, out DateTimeOffset instant, out IResult? error)
    {
        error = null;
        instant = default;
        if (!parameters.TryGetValue(name, out var text) || string.IsNullOrWhiteSpace(text))
        {
            error = BadParameter(name, $"{name} is required: an ISO-8601 instant with an offset, for example 2026-01-10T00:00:00Z.");
            return false;
        }

        if (!JsonInstants.TryParse(text, out instant))
        {
            error = BadParameter(name, $"{name} '{text}' is not an ISO-8601 instant with an offset, for example 2026-01-10T00:00:00Z. In a URL, write the '+' of an offset as %2B.");
            return false;
        }

        if (instant < MinInstant || instant > MaxInstant)
        {
            error = BadParameter(name, $"{name} {JsonInstants.Format(instant)} is out of range; use an instant from {JsonInstants.Format(MinInstant)} to {JsonInstants.Format(MaxInstant)}.");
            return false;
        }

        return true;
    }

    private static IResult BadParameter(string parameter, string detail) =>
        Results.Problem(
            statusCode: StatusCodes.Status400BadRequest,
            title: $"Invalid parameter '{parameter}'.",
            detail: detail,
            extensions: new Dictionary<string, object?> { ["parameter"] = parameter });
}
