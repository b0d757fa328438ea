using Microsoft.AspNetCore.Diagnostics;

namespace LambdaStats.Web.Hosting;

/// <summary>
/// Returns 503 with a problem response, instead of a bare 500, when a request fails because a
/// store did not respond. The MongoDB driver throws <see cref="TimeoutException"/> when no server
/// responds within its server selection timeout, and <c>MongoConnectionException</c> when a
/// connection breaks. The request can succeed later, so the response tells the client to retry.
/// </summary>
internal sealed partial class StoreUnavailableHandler(IProblemDetailsService problems, ILogger<StoreUnavailableHandler> logger) : IExceptionHandler
{
    private const int RetryAfterSeconds = 10;

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (!IsStoreUnavailable(exception))
        {
            return false;
        }

        Log.StoreUnavailable(logger, exception, httpContext.Request.Method, httpContext.Request.Path);
        httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        httpContext.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails =
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "A store of the service did not respond.",
                Detail = $"{exception.GetType().Name}: the event store or the view store did not respond in time. "
                    + $"Retry in {RetryAfterSeconds} seconds. Events of an ingestion request that were stored before the failure are then reported as duplicates.",
            },
        }).ConfigureAwait(false);
    }

    private static bool IsStoreUnavailable(Exception exception) =>
        exception is TimeoutException or MongoDB.Driver.MongoConnectionException;

    private static partial class Log
    {
        [LoggerMessage(EventId = 7002, Level = LogLevel.Error, Message = "{Method} {Path} failed because a store did not respond; returned 503")]
        public static partial void StoreUnavailable(ILogger logger, Exception exception, string method, string path);
    }
}
