using Hangfire;
using Hangfire.Common;
using LambdaStats.Modules.Batch;
using LambdaStats.Tests.Support;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using NSubstitute;

namespace LambdaStats.Tests.Lambda;

[TestFixture]
public sealed class BatchScheduleRenewalTests
{
    private readonly FakeTimeProvider clock = new(new DateTimeOffset(2026, 1, 10, 10, 0, 0, TimeSpan.Zero));
    private IRecurringJobManager jobs = null!;
    private ILogger logger = null!;
    private BatchScheduleRegistrar registrar = null!;

    [SetUp]
    public async Task StartRegistrar()
    {
        jobs = Substitute.For<IRecurringJobManager>();
        var typedLogger = Substitute.For<ILogger<BatchScheduleRegistrar>>();
        typedLogger.IsEnabled(Arg.Any<LogLevel>()).Returns(true);
        logger = typedLogger;
        registrar = new BatchScheduleRegistrar(jobs, Options.Create(new BatchOptions()), clock, typedLogger);
        await registrar.StartAsync(CancellationToken.None);
    }

    [TearDown]
    public async Task StopRegistrar()
    {
        await registrar.StopAsync(CancellationToken.None);
        registrar.Dispose();
    }

    [Test]
    public void Start_RegistersBothJobs()
    {
        Assert.That(RegisteredIds(), Is.EqualTo(new[] { BatchJobs.HourlyJobId, BatchJobs.DailyJobId }));
    }

    [Test]
    public void AfterInterval_RegistersBothAgain()
    {
        clock.Advance(BatchScheduleRegistrar.RenewalInterval - TimeSpan.FromSeconds(1));
        var beforeInterval = RegisteredIds().Count;
        clock.Advance(TimeSpan.FromSeconds(1));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(beforeInterval, Is.EqualTo(2), "only the registration at start");
            Assert.That(RegisteredIds(), Is.EqualTo(new[] { BatchJobs.HourlyJobId, BatchJobs.DailyJobId, BatchJobs.HourlyJobId, BatchJobs.DailyJobId }));
        }
    }

    [Test]
    public void StorageDown_LogsAndRetriesNextTick()
    {
        var storageDown = true;
        jobs.When(j => j.AddOrUpdate(Arg.Any<string>(), Arg.Any<Job>(), Arg.Any<string>(), Arg.Any<RecurringJobOptions>()))
            .Do(_ =>
            {
                if (storageDown)
                {
                    throw new TimeoutException("No redis server available");
                }
            });
        clock.Advance(BatchScheduleRegistrar.RenewalInterval);
        var failures = LoggedLines.WithEventId(logger, 2013);

        storageDown = false;
        jobs.ClearReceivedCalls();
        clock.Advance(BatchScheduleRegistrar.RenewalInterval);
        var recoveries = LoggedLines.WithEventId(logger, 2014);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(failures, Has.Count.EqualTo(1), "one warning for the failed renewal");
            Assert.That(failures[0], Does.Contain("retrying in 5 minutes"));
            Assert.That(RegisteredIds(), Is.EqualTo(new[] { BatchJobs.HourlyJobId, BatchJobs.DailyJobId }), "the next tick registers both");
            Assert.That(recoveries, Has.Count.EqualTo(1), "one line when it works again");
        }
    }

    private List<string> RegisteredIds() =>
        jobs.ReceivedCalls()
            .Where(call => call.GetMethodInfo().Name == nameof(IRecurringJobManager.AddOrUpdate))
            .Select(call => (string)call.GetArguments()[0]!)
            .ToList();
}
