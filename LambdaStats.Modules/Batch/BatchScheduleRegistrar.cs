using Hangfire;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LambdaStats.Modules.Batch;

/// <summary>Registers the hourly and daily recurring jobs with Hangfire, in UTC.</summary>
internal sealed partial class BatchScheduleRegistrar(
    IRecurringJobManager jobs,
    IOptions<BatchOptions> options,
    ILogger<BatchScheduleRegistrar> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.ScheduleJobs)
        {
            Log.SchedulingDisabled(logger);
            return Task.CompletedTask;
        }

        var utc = new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc };
        try
        {
            jobs.AddOrUpdate<BatchJobs>(BatchJobs.HourlyJobId, job => job.RunHourlyAsync(CancellationToken.None), options.Value.HourlyCron, utc);
        }
        catch (ArgumentException exception)
        {
            throw new InvalidOperationException($"Batch:HourlyCron '{options.Value.HourlyCron}' is not a valid cron expression: {exception.Message}", exception);
        }

        try
        {
            jobs.AddOrUpdate<BatchJobs>(BatchJobs.DailyJobId, job => job.RunDailyAsync(CancellationToken.None), options.Value.DailyCron, utc);
        }
        catch (ArgumentException exception)
        {
            throw new InvalidOperationException($"Batch:DailyCron '{options.Value.DailyCron}' is not a valid cron expression: {exception.Message}", exception);
        }

        Log.Scheduled(logger, options.Value.HourlyCron, options.Value.DailyCron);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static partial class Log
    {
        [LoggerMessage(EventId = 2010, Level = LogLevel.Information, Message = "Batch jobs scheduled in UTC: hourly '{HourlyCron}', daily '{DailyCron}'")]
        public static partial void Scheduled(ILogger logger, string hourlyCron, string dailyCron);

        [LoggerMessage(EventId = 2011, Level = LogLevel.Information, Message = "Batch jobs are not scheduled (Batch:ScheduleJobs is false)")]
        public static partial void SchedulingDisabled(ILogger logger);
    }
}
