using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using LambdaStats.Modules.Events.Import;
using Microsoft.Extensions.Logging;

namespace LambdaStats.Web.Cli;

/// <summary>Retry limits of <see cref="HttpImportTarget"/>.</summary>
public sealed class HttpImportRetryOptions
{
    /// <summary>Maximum number of attempts per batch, the first included. Default 4.</summary>
    public int MaxAttempts { get; init; } = 4;

    /// <summary>Wait before the first retry, doubled for each later one. Default 1 second.</summary>
    public TimeSpan FirstDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Maximum wait before a retry, also applied to a Retry-After header. Default 30 seconds.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// Sends batches as JSON arrays to <c>POST {serviceUrl}/api/events</c> of a running service and
/// reads its <c>{"accepted", "duplicates", "rejected": [{"index", "id", "error"}]}</c> response.
/// </summary>
/// <remarks>
/// Connection failures, timeouts and the status codes 408, 429, 500, 502, 503 and 504 are retried
/// with exponential backoff. Retrying is safe because the service stores each event id once. An
/// event stored by an attempt whose response was lost counts as a duplicate on the retry, so the
/// accepted count can come out lower than the number of events the import stored.
/// </remarks>
public sealed partial class HttpImportTarget : IImportTarget
{
    public const string EventsPath = "api/events";

    private const int MaxErrorBodyChars = 500;

    private readonly HttpClient client;
    private readonly TimeProvider time;
    private readonly ILogger<HttpImportTarget> logger;
    private readonly HttpImportRetryOptions retry;

    /// <param name="client">Client used for every request; the caller owns and disposes it.</param>
    /// <param name="serviceUrl">Absolute base URL of the service, such as <c>http://127.0.0.1:5000</c>.</param>
    /// <param name="time">Clock for retry waits.</param>
    /// <param name="logger">Receives a warning for each retry.</param>
    /// <param name="retry">Retry limits, or null for the defaults.</param>
    public HttpImportTarget(HttpClient client, Uri serviceUrl, TimeProvider time, ILogger<HttpImportTarget> logger, HttpImportRetryOptions? retry = null)
    {
        ArgumentNullException.ThrowIfNull(serviceUrl);
        if (!serviceUrl.IsAbsoluteUri)
        {
            throw new ArgumentException($"The service URL must be absolute, got '{serviceUrl}'.", nameof(serviceUrl));
        }

        this.client = client;
        this.time = time;
        this.logger = logger;
        this.retry = retry ?? new HttpImportRetryOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(this.retry.MaxAttempts, 1, nameof(retry));
        EventsUrl = new Uri(serviceUrl.GetLeftPart(UriPartial.Path).TrimEnd('/') + "/" + EventsPath);
    }

    /// <summary>The URL that batches are posted to.</summary>
    public Uri EventsUrl { get; }

    public async Task<ImportBatchResult> SendAsync(IReadOnlyList<ImportRecord> batch, CancellationToken cancellationToken)
    {
        if (batch.Count == 0)
        {
            return new ImportBatchResult(0, 0, []);
        }

        var body = Serialize(batch);
        for (var attempt = 1; ; attempt++)
        {
            string failure;
            TimeSpan? retryAfter = null;
            Exception? exception = null;
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, EventsUrl) { Content = CreateContent(body) };
                using var response = await client.SendAsync(request, cancellationToken).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    return await ReadResponseAsync(response, batch, cancellationToken).ConfigureAwait(false);
                }

                var responseText = await ReadErrorBodyAsync(response, cancellationToken).ConfigureAwait(false);
                failure = $"POST {EventsUrl} returned {(int)response.StatusCode} {response.ReasonPhrase}: {responseText}";
                if (!IsTransient(response.StatusCode))
                {
                    throw new ImportTargetException(failure);
                }

                retryAfter = GetRetryAfter(response.Headers.RetryAfter);
            }
            catch (HttpRequestException requestException)
            {
                failure = $"POST {EventsUrl} failed: {DescribeCauses(requestException)}";
                exception = requestException;
            }
            catch (TaskCanceledException timeout) when (!cancellationToken.IsCancellationRequested)
            {
                failure = $"POST {EventsUrl} timed out after {client.Timeout.TotalSeconds:0} s";
                exception = timeout;
            }

            if (attempt >= retry.MaxAttempts)
            {
                var message = $"{failure} (gave up after {attempt} attempts)";
                throw exception is null ? new ImportTargetException(message) : new ImportTargetException(message, exception);
            }

            var delay = GetRetryDelay(attempt, retryAfter);
            // The failure text contains the error message. A stack trace would only repeat the
            // HTTP client's internals on every retry.
            Log.Retrying(logger, attempt, retry.MaxAttempts, batch[0].LineNumber, batch[^1].LineNumber, failure, delay.TotalSeconds);
            await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Joins the messages of an exception and its inner exceptions, because HttpClient's own
    /// message ("An error occurred while sending the request.") leaves out the cause.
    /// </summary>
    private static string DescribeCauses(Exception exception)
    {
        var messages = new List<string>();
        for (var current = exception; current is not null; current = current.InnerException)
        {
            messages.Add(current.Message.TrimEnd('.'));
        }

        return string.Join(": ", messages.Distinct(StringComparer.Ordinal));
    }

    private static ReadOnlyMemory<byte> Serialize(IReadOnlyList<ImportRecord> batch)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            EventJsonWriter.WriteArray(writer, batch);
        }

        return buffer.WrittenMemory;
    }

    private static ReadOnlyMemoryContent CreateContent(ReadOnlyMemory<byte> body)
    {
        var content = new ReadOnlyMemoryContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        return content;
    }

    private static bool IsTransient(HttpStatusCode status) => status is HttpStatusCode.RequestTimeout
        or HttpStatusCode.TooManyRequests
        or HttpStatusCode.InternalServerError
        or HttpStatusCode.BadGateway
        or HttpStatusCode.ServiceUnavailable
        or HttpStatusCode.GatewayTimeout;

    private TimeSpan? GetRetryAfter(RetryConditionHeaderValue? header)
    {
        if (header?.Delta is { } delta)
        {
            return delta;
        }

        if (header?.Date is { } date)
        {
            return date - time.GetUtcNow();
        }

        return null;
    }

    private TimeSpan GetRetryDelay(int attempt, TimeSpan? retryAfter)
    {
        var backoff = retry.FirstDelay * Math.Pow(2, attempt - 1);
        var delay = retryAfter is { } requested && requested > backoff ? requested : backoff;
        return delay > retry.MaxDelay ? retry.MaxDelay : delay;
    }

    private static async Task<string> ReadErrorBodyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        text = text.ReplaceLineEndings(" ").Trim();
        if (text.Length == 0)
        {
            return "(empty body)";
        }

        return text.Length <= MaxErrorBodyChars ? text : string.Concat(text.AsSpan(0, MaxErrorBodyChars), "...");
    }

    /// <summary>Reads the response body and maps rejected indexes back to line numbers.</summary>
    private async Task<ImportBatchResult> ReadResponseAsync(HttpResponseMessage response, IReadOnlyList<ImportRecord> batch, CancellationToken cancellationToken)
    {
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            JsonDocument document;
            try
            {
                document = await JsonDocument.ParseAsync(stream, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (JsonException exception)
            {
                throw new ImportTargetException($"POST {EventsUrl} returned {(int)response.StatusCode} with a body that is not JSON: {exception.Message}", exception);
            }

            using (document)
            {
                return ReadResponse(document.RootElement, batch);
            }
        }
    }

    private ImportBatchResult ReadResponse(JsonElement body, IReadOnlyList<ImportRecord> batch)
    {
        if (body.ValueKind != JsonValueKind.Object
            || !TryGetCount(body, "accepted", out var accepted)
            || !TryGetCount(body, "duplicates", out var duplicates)
            || !body.TryGetProperty("rejected", out var rejectedArray)
            || rejectedArray.ValueKind != JsonValueKind.Array)
        {
            throw InvalidResponse("expected an object with the integers 'accepted' and 'duplicates' and the array 'rejected'");
        }

        var rejected = new List<ImportRejection>(rejectedArray.GetArrayLength());
        foreach (var item in rejectedArray.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object
                || !TryGetCount(item, "index", out var index)
                || !item.TryGetProperty("error", out var error)
                || error.ValueKind != JsonValueKind.String)
            {
                throw InvalidResponse("each item of 'rejected' must have the integer 'index' and the string 'error'");
            }

            if (index >= batch.Count)
            {
                throw InvalidResponse($"rejected index {index} is outside the batch of {batch.Count} events");
            }

            rejected.Add(new ImportRejection(batch[index].LineNumber, error.GetString()!));
        }

        if (accepted + duplicates + rejected.Count != batch.Count)
        {
            throw InvalidResponse($"accepted {accepted} + duplicates {duplicates} + rejected {rejected.Count} does not equal the {batch.Count} events sent");
        }

        return new ImportBatchResult(accepted, duplicates, rejected);
    }

    private static bool TryGetCount(JsonElement json, string name, out int value)
    {
        value = 0;
        return json.TryGetProperty(name, out var element)
            && element.ValueKind == JsonValueKind.Number
            && element.TryGetInt32(out value)
            && value >= 0;
    }

    private ImportTargetException InvalidResponse(string problem) =>
        new($"POST {EventsUrl} returned an invalid response: {problem}. Check that --url points to a LambdaStats service.");

    private static partial class Log
    {
        [LoggerMessage(EventId = 3001, Level = LogLevel.Warning,
            Message = "Attempt {Attempt} of {MaxAttempts} for lines {FirstLine} to {LastLine} failed: {Failure}. Retrying in {DelaySeconds:0.#} s")]
        public static partial void Retrying(ILogger logger, int attempt, int maxAttempts, long firstLine, long lastLine, string failure, double delaySeconds);
    }
}
