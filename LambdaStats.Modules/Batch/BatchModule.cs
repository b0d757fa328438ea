using LambdaStats.Modules.Batch.Contracts;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace LambdaStats.Modules.Batch;

public static class BatchModule
{
    /// <summary>
    /// Registers the batch runner, its Hangfire jobs and their schedule. The host configures
    /// Hangfire's storage and server.
    /// </summary>
    public static IServiceCollection AddBatchModule(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<BatchOptions>()
            .Bind(configuration.GetSection(BatchOptions.SectionName))
            .Validate(options => !string.IsNullOrWhiteSpace(options.HourlyCron), "Batch:HourlyCron is empty; set a cron expression such as '0 * * * *'.")
            .Validate(options => !string.IsNullOrWhiteSpace(options.DailyCron), "Batch:DailyCron is empty; set a cron expression such as '10 0 * * *'.")
            .Validate(options => options.CompactHeapAboveMegabytes >= 0, "Batch:CompactHeapAboveMegabytes is negative; set 0 to turn the collection after a run off, or a size in MiB.")
            .Validate(options => options.ReadHourPerEventTypeAboveEvents >= 0, "Batch:ReadHourPerEventTypeAboveEvents is negative; set 0 to turn the switch off, or a number of events.")
            .Validate(options => options.EventsPerHubSlice >= 0, "Batch:EventsPerHubSlice is negative; set 0 to turn slicing off, or a number of events per slice.")
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<BatchOptions>, BatchCronValidator>();
        services.AddSingleton<IHeapCompactor, GcHeapCompactor>();
        services.AddSingleton<BatchRunner>();
        services.AddTransient<BatchJobs>();
        services.AddSingleton<IRecomputeScheduler, RecomputeScheduler>();
        services.AddHostedService<BatchScheduleRegistrar>();
        services.AddHostedService<BackfillStarter>();
        return services;
    }
}
