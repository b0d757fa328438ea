using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace LambdaStats.Tests.Import;

/// <summary>A request received by <see cref="EventsTestServer"/>.</summary>
internal sealed record RecordedRequest(string Method, string Path, string? ContentType, string Body);

/// <summary>
/// A minimal <c>POST /api/events</c> endpoint on 127.0.0.1 with a port chosen by the system. It
/// records every request, and <c>respond</c> chooses the status and body of each response from the
/// request's 0-based position and its JSON array. By default it accepts every event.
/// </summary>
internal sealed class EventsTestServer : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly List<RecordedRequest> requests = [];

    private EventsTestServer(WebApplication app, Uri baseUrl)
    {
        this.app = app;
        BaseUrl = baseUrl;
    }

    public Uri BaseUrl { get; }

    public IReadOnlyList<RecordedRequest> Requests
    {
        get
        {
            lock (requests)
            {
                return requests.ToList();
            }
        }
    }

    public static async Task<EventsTestServer> StartAsync(Func<int, JsonElement, (int Status, string Body)>? respond = null)
    {
        respond ??= (_, events) => (200, AcceptAll(events));
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        EventsTestServer? server = null;
        app.MapPost("/api/events", async (HttpContext context) =>
        {
            using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync(context.RequestAborted);
            int index;
            lock (server!.requests)
            {
                index = server.requests.Count;
                server.requests.Add(new RecordedRequest(context.Request.Method, context.Request.Path, context.Request.ContentType, body));
            }

            using var document = JsonDocument.Parse(body);
            var (status, responseBody) = respond(index, document.RootElement);
            context.Response.StatusCode = status;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(responseBody, context.RequestAborted);
        });
        await app.StartAsync();
        server = new EventsTestServer(app, new Uri(app.Urls.Single()));
        return server;
    }

    /// <summary>Returns the response body that accepts every event of <paramref name="events"/>.</summary>
    public static string AcceptAll(JsonElement events) =>
        $$"""{"accepted":{{events.GetArrayLength()}},"duplicates":0,"rejected":[]}""";

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}

/// <summary>Keeps every log entry, so tests can check warnings.</summary>
internal sealed class RecordingLogger<T> : ILogger<T>
{
    private readonly List<(LogLevel Level, string Message)> entries = [];

    public IReadOnlyList<(LogLevel Level, string Message)> Entries
    {
        get
        {
            lock (entries)
            {
                return entries.ToList();
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (entries)
        {
            entries.Add((logLevel, formatter(state, exception)));
        }
    }
}
