using Microsoft.Extensions.Logging;

namespace LambdaStats.Modules.Storage.Elasticsearch;

internal static partial class ElasticsearchViewStoreLog
{
    [LoggerMessage(EventId = 5101, Level = LogLevel.Information, Message = "Views: Elasticsearch at {Url}, indices {HoursIndex}, {DaysIndex} and {FrontiersIndex}, authentication {Authentication}")]
    public static partial void UsingElasticsearch(ILogger logger, Uri url, string hoursIndex, string daysIndex, string frontiersIndex, string authentication);

    [LoggerMessage(EventId = 5102, Level = LogLevel.Information, Message = "Created the Elasticsearch index {Index} of the views")]
    public static partial void IndexCreated(ILogger logger, string index);

    [LoggerMessage(EventId = 5103, Level = LogLevel.Debug, Message = "The Elasticsearch index {Index} was created by another process meanwhile: {Reason}")]
    public static partial void IndexCreatedElsewhere(ILogger logger, string index, string reason);

    [LoggerMessage(EventId = 5104, Level = LogLevel.Warning, Message = "Elasticsearch request {Operation} on {Index} failed (attempt {Attempt} of {MaxAttempts}), retrying in {Delay}")]
    public static partial void Retrying(ILogger logger, Exception exception, string operation, string index, int attempt, int maxAttempts, TimeSpan delay);

    [LoggerMessage(EventId = 5105, Level = LogLevel.Debug, Message = "Committed views of aggregation {Aggregation} to Elasticsearch: {HourCount} hours, {DayCount} days, {RowCount} rows in {DocumentCount} documents, {DeletedCount} documents deleted")]
    public static partial void ViewsCommitted(ILogger logger, string aggregation, int hourCount, int dayCount, int rowCount, int documentCount, long deletedCount);

    [LoggerMessage(EventId = 5106, Level = LogLevel.Debug, Message = "Wrote a part of hour {Hour:yyyy-MM-dd'T'HH:mm:sszzz} of aggregation {Aggregation} to Elasticsearch (replacing the hour's rows: {Replaced}): {RowCount} rows")]
    public static partial void HourPartWritten(ILogger logger, string aggregation, DateTimeOffset hour, bool replaced, int rowCount);

    [LoggerMessage(EventId = 5107, Level = LogLevel.Warning, Message = "A commit of aggregation {Aggregation} failed before it moved the frontier; some of its buckets may hold the new rows, and the next batch run writes them again")]
    public static partial void CommitFailed(ILogger logger, Exception exception, string aggregation);
}
