using Microsoft.Extensions.Logging;

namespace LambdaStats.Modules.Storage.MongoDb;

internal static partial class MongoStorageLog
{
    [LoggerMessage(EventId = 5101, Level = LogLevel.Information, Message = "Opened the MongoDB event store: database {Database} on {Servers}, {EventCount} events stored up to sequence {MaxSequence}")]
    public static partial void Opened(ILogger logger, string database, string servers, long eventCount, long maxSequence);

    [LoggerMessage(EventId = 5102, Level = LogLevel.Warning, Message = "Inserting {EventCount} events with sequences {FirstSequence} to {LastSequence} hit a duplicate id, probably stored meanwhile by another process; inserting them one at a time")]
    public static partial void InsertingOneByOne(ILogger logger, int eventCount, long firstSequence, long lastSequence, Exception exception);

    [LoggerMessage(EventId = 5103, Level = LogLevel.Error, Message = "Appending {EventCount} events with sequences {FirstSequence} to {LastSequence} failed; the events stored before the failure are reported as duplicates when the batch is sent again")]
    public static partial void AppendFailed(ILogger logger, int eventCount, long firstSequence, long lastSequence, Exception exception);

    [LoggerMessage(EventId = 5104, Level = LogLevel.Debug, Message = "Event {EventId} was stored by another writer before sequence {Sequence} could be given to it; counted as a duplicate")]
    public static partial void StoredByAnotherWriter(ILogger logger, string eventId, long sequence);

    [LoggerMessage(EventId = 5105, Level = LogLevel.Debug, Message = "Failed to open the MongoDB event store: no server at {Servers} responded within the server selection timeout; the driver's description of the cluster follows")]
    public static partial void OpenFailed(ILogger logger, string servers, Exception exception);
}
