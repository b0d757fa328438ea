using System.Text.Json;
using LambdaStats.Modules.Events.Contracts;

namespace LambdaStats.Web.Endpoints;

/// <summary><c>POST /api/events</c>: one event or a JSON array of events.</summary>
internal static class EventEndpoints
{
    public const int MaxEvents = 10_000;
    public const long MaxBodyBytes = 10 * 1024 * 1024;

    public static IEndpointRouteBuilder MapEventEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/events", PostEventsAsync)
            .WithName("PostEvents")
            .Accepts<JsonElement>("application/json")
            .Produces<IngestionResponse>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        return app;
    }

    private static async Task<IResult> PostEventsAsync(HttpContext context, IEventIngestor ingestor, CancellationToken cancellationToken)
    {
        var body = await ReadBodyAsync(context, cancellationToken);
        if (body is null)
        {
            return TooLarge($"The request body is larger than {MaxBodyBytes / (1024 * 1024)} MB. Send at most {MaxEvents:N0} events and {MaxBodyBytes / (1024 * 1024)} MB per request.");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException exception)
        {
            return Results.Problem(
                statusCode: StatusCodes.Status400BadRequest,
                title: "The request body is not valid JSON.",
                detail: $"{exception.Message} Send one event object or a JSON array of event objects.");
        }

        using (document)
        {
            var root = document.RootElement;
            IReadOnlyList<JsonElement> events;
            switch (root.ValueKind)
            {
                case JsonValueKind.Object:
                    events = [root];
                    break;
                case JsonValueKind.Array:
                    if (root.GetArrayLength() > MaxEvents)
                    {
                        return TooLarge($"The request holds {root.GetArrayLength():N0} events. Send at most {MaxEvents:N0} events and {MaxBodyBytes / (1024 * 1024)} MB per request.");
                    }

                    events = root.EnumerateArray().ToList();
                    break;
                default:
                    return Results.Problem(
                        statusCode: StatusCodes.Status400BadRequest,
                        title: "The request body is not an event.",
                        detail: $"Expected one event object or a JSON array of event objects, got a JSON {root.ValueKind}.");
            }

            var result = await ingestor.IngestAsync(events, cancellationToken);
            return Results.Ok(new IngestionResponse(
                result.Accepted,
                result.Duplicates,
                result.Rejected.Select(r => new RejectionResponse(r.Index, r.Id, r.Error)).ToList()));
        }
    }

    /// <summary>Reads the body, or returns null as soon as it passes the size limit.</summary>
    private static async Task<byte[]?> ReadBodyAsync(HttpContext context, CancellationToken cancellationToken)
    {
        if (context.Request.ContentLength > MaxBodyBytes)
        {
            return null;
        }

        var sizeFeature = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false })
        {
            // This endpoint enforces its own limit with a clearer message than the server's.
            sizeFeature.MaxRequestBodySize = null;
        }

        if (context.Request.ContentLength is { } length)
        {
            return await ReadKnownLengthAsync(context.Request.Body, (int)length, cancellationToken);
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await context.Request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    /// <summary>
    /// Reads a body whose Content-Length is at most <see cref="MaxBodyBytes"/> straight into one
    /// array, without the copies of a growing buffer. Kestrel ends the body stream after
    /// Content-Length bytes. A body that ends early is returned as sent, so the JSON parser reports it.
    /// </summary>
    private static async Task<byte[]> ReadKnownLengthAsync(Stream body, int length, CancellationToken cancellationToken)
    {
        var buffer = new byte[length];
        var filled = 0;
        while (filled < length)
        {
            var read = await body.ReadAsync(buffer.AsMemory(filled), cancellationToken);
            if (read == 0)
            {
                return buffer[..filled];
            }

            filled += read;
        }

        return buffer;
    }

    private static IResult TooLarge(string detail) =>
        Results.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "The request is too large.", detail: detail);
}

internal sealed record IngestionResponse(int Accepted, int Duplicates, IReadOnlyList<RejectionResponse> Rejected);

internal sealed record RejectionResponse(int Index, string? Id, string Error);
