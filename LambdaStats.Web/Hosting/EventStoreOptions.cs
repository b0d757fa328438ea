using LambdaStats.Modules.Storage.MongoDb;

namespace LambdaStats.Web.Hosting;

/// <summary>Which store keeps the events, read from the <c>Storage:Events</c> setting; <c>Storage:Views</c> chooses the view store on its own.</summary>
public static class EventStoreOptions
{
    public const string Key = "Storage:Events";

    /// <summary>
    /// Reads the setting, and the <c>Storage:MongoDb</c> section when it selects MongoDB, and
    /// checks them, since the store is chosen while the host is composed, before options validation runs.
    /// </summary>
    /// <exception cref="InvalidOperationException">A value is missing or invalid; the message names the setting.</exception>
    public static EventStoreKind Read(IConfiguration configuration)
    {
        var value = configuration[Key];
        if (string.IsNullOrWhiteSpace(value))
        {
            return EventStoreKind.Sqlite;
        }

        // Enum.TryParse would also take a number such as "1", which names no store.
        var name = Enum.GetNames<EventStoreKind>().FirstOrDefault(kind => kind.Equals(value.Trim(), StringComparison.OrdinalIgnoreCase))
            ?? throw new InvalidOperationException($"{Key} must be Sqlite or MongoDb, not '{value}'.");
        var kind = Enum.Parse<EventStoreKind>(name);
        if (kind == EventStoreKind.MongoDb)
        {
            var mongo = configuration.GetSection(MongoEventStoreOptions.SectionName).Get<MongoEventStoreOptions>() ?? new MongoEventStoreOptions();
            mongo.Check();
        }

        return kind;
    }
}

public enum EventStoreKind
{
    /// <summary><c>events.db</c> in <c>Storage:DataDirectory</c>, the default.</summary>
    Sqlite,

    /// <summary>The database named by <c>Storage:MongoDb:ConnectionString</c> and <c>Storage:MongoDb:Database</c>.</summary>
    MongoDb,
}
