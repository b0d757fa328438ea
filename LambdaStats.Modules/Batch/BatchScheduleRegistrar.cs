using Hangfire;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LambdaStats.Modules.Batch;

/// <summary>
/// Registers the hourly and daily recurring jobs with Hangfire, in UTC, at start and again every
/// <see cref="RenewalInterval"/>.
/// </summary>
/// <remarks>
/// A job storage can lose the recurring jobs while the service runs: a Redis server that restarts
/// without persistence, or an operator who deletes them on the dashboard. Without them, no hourly
/// batch runs, and the speed layer keeps every hour after the watermark in memory. Registering
/// again is idempotent: Hangfire keeps the next run time of a job whose schedule is unchanged.
/// </remarks>
internal sealed partial class BatchScheduleRegistrar(
    IRecurringJobManager jobs,
    IOptions<BatchOptions> options,
    TimeProvider clock,
    ILogger<BatchScheduleRegistrar> logger) : IHostedService, IDisposable
{
    /// <summary>Time between two registrations of the recurring jobs after the one at start.</summary>
    internal static readonly TimeSpan RenewalInterval = TimeSpan.FromMinutes(5);

    private ITimer? renewal;
    private bool renewalFailed;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.ScheduleJobs)
        {
            Log.SchedulingDisabled(logger);
            return Task.CompletedTask;
        }

        Register();
        Log.Scheduled(logger, options.Value.HourlyCron, options.Value.DailyCron);
        renewal = clock.CreateTimer(_ => Renew(), null, RenewalInterval, RenewalInterval);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        renewal?.Dispose();
        return Task.CompletedTask;
    }

    public void Dispose() => renewal?.Dispose();

    /// <exception cref="InvalidOperationException">A cron expression is invalid; the message names the setting.</exception>
    private void Register()
    {
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
    }

    /// <summary>Registers the jobs again; a failure is logged and the next tick retries.</summary>
    private void Renew()
    {
        try
        {
            Register();
            if (renewalFailed)
            {
                renewalFailed = false;
                Log.RenewedAfterFailure(logger);
            }
        }
        catch (Exception exception)
        {
            // The storage is down or refused the jobs; the jobs registered before, if the storage
            // still has them, run as scheduled.
            renewalFailed = true;
            Log.RenewalFailed(logger, exception, RenewalInterval.TotalMinutes);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2010, Level = LogLevel.Information, Message = "Batch jobs scheduled in UTC: hourly '{HourlyCron}', daily '{DailyCron}'")]
        public static partial void Scheduled(ILogger logger, string hourlyCron, string dailyCron);

        [LoggerMessage(EventId = 2011, Level = LogLevel.Information, Message = "Batch jobs are not scheduled (Batch:ScheduleJobs is false)")]
        public static partial void SchedulingDisabled(ILogger logger);

        [LoggerMessage(EventId = 2013, Level = LogLevel.Warning, Message = "Failed to register the batch jobs again in the job storage; retrying in {IntervalMinutes} minutes")]
        public static partial void RenewalFailed(ILogger logger, Exception exception, double intervalMinutes);

        [LoggerMessage(EventId = 2014, Level = LogLevel.Information, Message = "Batch jobs registered again in the job storage after a failure")]
        public static partial void RenewedAfterFailure(ILogger logger);
    }
}
