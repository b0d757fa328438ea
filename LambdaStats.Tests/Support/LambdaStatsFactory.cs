using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace LambdaStats.Tests.Support;

/// <summary>
/// The real host over HTTP, with its SQLite files in a temporary directory that is deleted on
/// dispose. The Hangfire server is off (jobs run through the admin endpoint) because its shutdown
/// wait would slow every test.
/// </summary>
internal class LambdaStatsFactory : WebApplicationFactory<Program>
{
    public LambdaStatsFactory(string? dataDirectory = null)
    {
        DataDirectory = dataDirectory ?? Path.Combine(Path.GetTempPath(), "lambdastats-tests", Guid.NewGuid().ToString("N"));
        OwnsDirectory = dataDirectory is null;
    }

    public string DataDirectory { get; }

    private bool OwnsDirectory { get; }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Storage:DataDirectory", DataDirectory);
        builder.UseSetting("Hosting:RunJobServer", "false");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing && OwnsDirectory && Directory.Exists(DataDirectory))
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(DataDirectory, recursive: true);
        }
    }
}
