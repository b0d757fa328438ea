using Microsoft.Extensions.Logging;

namespace LambdaStats.Modules.Storage.Sqlite;

internal static partial class SqliteStorageLog
{
    [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "Opened the {Store} database at {Path}")]
    public static partial void DatabaseOpened(ILogger logger, string store, string path);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Debug, Message = "Committed views of aggregation {Aggregation}: {HourCount} hours, {DayCount} days, {RowCount} rows")]
    public static partial void ViewsCommitted(ILogger logger, string aggregation, int hourCount, int dayCount, int rowCount);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Debug, Message = "Wrote a part of hour {Hour:yyyy-MM-dd'T'HH:mm:sszzz} of aggregation {Aggregation} (replacing the hour's rows: {Replaced}): {RowCount} rows")]
    public static partial void HourPartWritten(ILogger logger, string aggregation, DateTimeOffset hour, bool replaced, int rowCount);
}
