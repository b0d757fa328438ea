namespace LambdaStats.Modules.Storage.Sqlite;

/// <summary>Location of the SQLite databases, bound from the <c>Storage</c> section.</summary>
public sealed class SqliteStorageOptions
{
    public const string SectionName = "Storage";

    /// <summary>Configuration key of <see cref="DataDirectory"/>, as error messages name it.</summary>
    public const string DataDirectoryKey = SectionName + ":" + nameof(DataDirectory);

    public const string EventsFileName = "events.db";

    public const string ViewsFileName = "views.db";

    /// <summary>
    /// Directory that contains <c>events.db</c> and <c>views.db</c>. A relative path is resolved
    /// against the current directory. Default <c>./data</c>.
    /// </summary>
    public string DataDirectory { get; set; } = "./data";

    /// <summary>Returns <see cref="DataDirectory"/> as an absolute path.</summary>
    public string ResolveDataDirectory()
    {
        if (string.IsNullOrWhiteSpace(DataDirectory))
        {
            throw new InvalidOperationException($"The setting {DataDirectoryKey} is empty; set it to the directory where the SQLite databases are kept.");
        }

        return Path.GetFullPath(DataDirectory);
    }
}
