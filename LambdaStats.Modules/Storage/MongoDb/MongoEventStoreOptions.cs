using MongoDB.Driver;

namespace LambdaStats.Modules.Storage.MongoDb;

/// <summary>The MongoDB database of the event store, bound from the <c>Storage:MongoDb</c> section.</summary>
public sealed class MongoEventStoreOptions
{
    public const string SectionName = "Storage:MongoDb";

    /// <summary>Configuration key of <see cref="ConnectionString"/>, as error messages name it.</summary>
    public const string ConnectionStringKey = SectionName + ":" + nameof(ConnectionString);

    /// <summary>Configuration key of <see cref="Database"/>, as error messages name it.</summary>
    public const string DatabaseKey = SectionName + ":" + nameof(Database);

    /// <summary>
    /// A MongoDB connection string (<c>mongodb://host:27017</c>). It can contain a password, so it
    /// is never logged nor put in an error message. No default.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>Database that contains the <c>events</c> and <c>counters</c> collections. Default <c>lambdastats</c>.</summary>
    public string Database { get; set; } = "lambdastats";

    /// <summary>Checks both settings and returns the parsed connection string.</summary>
    /// <exception cref="InvalidOperationException">A setting is missing or invalid; the message names it and leaves its value out.</exception>
    public MongoUrl Check()
    {
        if (string.IsNullOrWhiteSpace(ConnectionString))
        {
            throw new InvalidOperationException($"{ConnectionStringKey} is missing; set a MongoDB connection string such as mongodb://127.0.0.1:27017.");
        }

        MongoUrl url;
        try
        {
            url = MongoUrl.Create(ConnectionString);
        }
        catch (Exception exception) when (exception is MongoConfigurationException or ArgumentException or FormatException)
        {
            // The driver's message (3.14.0) replaces the user and password with <hidden> but
            // quotes the hosts and every option, whose values may be secret too, so neither the
            // message nor the exception is passed on.
            throw new InvalidOperationException(
                $"{ConnectionStringKey} is not a valid MongoDB connection string (the driver raised {exception.GetType().Name}). "
                + "Check that it starts with mongodb:// or mongodb+srv://, that it names at least one host, that each port is between 1 and 65535, "
                + "and that each option after '?' has a known name and a valid value.");
        }

        if (string.IsNullOrWhiteSpace(Database) || Database.Length > 63 || Database.IndexOfAny(InvalidDatabaseCharacters) >= 0)
        {
            throw new InvalidOperationException($"{DatabaseKey} must be 1 to 63 characters without spaces nor any of /\\.\"$*<>:|?, not '{Database}'.");
        }

        return url;
    }

    /// <summary>Characters that MongoDB rejects in a database name on any platform.</summary>
    private static readonly char[] InvalidDatabaseCharacters = ['/', '\\', '.', ' ', '"', '$', '*', '<', '>', ':', '|', '?', '\0'];
}
