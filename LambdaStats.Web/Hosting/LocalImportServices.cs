namespace LambdaStats.Web.Hosting;

/// <summary>
/// Services for an import into the local data directory: the service's own composition, built
/// but not started, so no web server, bus or job server runs.
/// </summary>
internal static class LocalImportServices
{
    public static IServiceProvider Create() => Create(new Dictionary<string, string?>());

    /// <param name="settings">Configuration that overrides the service's, such as <c>Storage:DataDirectory</c>.</param>
    public static IServiceProvider Create(IReadOnlyDictionary<string, string?> settings)
    {
        // The import's own arguments are not configuration: the builder gets none.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [] });
        builder.Configuration["Hosting:RunJobServer"] = "false";
        builder.Configuration["Batch:ScheduleJobs"] = "false";
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddLambdaStats();
        var services = builder.Build().Services;

        // As the service does before it starts: a wrong setting stops the import before it
        // stores anything, not at the first batch that reaches the component that reads it.
        services.GetService<Microsoft.Extensions.Options.IStartupValidator>()?.Validate();

        // Opens both stores before any event is stored. The SQLite view store takes the data
        // directory's lock, so an import beside a running service stops here, before it writes
        // to an event store that has no lock of its own, such as MongoDB.
        services.GetRequiredService<LambdaStats.Modules.View.Contracts.IViewStore>();
        services.GetRequiredService<LambdaStats.Modules.Events.Contracts.IEventStore>();
        return services;
    }
}
