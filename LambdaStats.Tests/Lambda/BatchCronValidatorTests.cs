using Hangfire;
using LambdaStats.Modules.Batch;
using LambdaStats.Tests.Support;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace LambdaStats.Tests.Lambda;

/// <summary>The start-time check of the batch schedules accepts exactly the expressions that Hangfire schedules.</summary>
[TestFixture]
public sealed class BatchCronValidatorTests
{
    private LambdaStatsFactory factory = null!;
    private IRecurringJobManager jobs = null!;

    /// <summary>
    /// Starts the service's host once, so that Hangfire's own check runs with the service's job
    /// storage and logging. Hangfire logs through the logger factory of the last host that
    /// configured it, which an earlier test may have disposed.
    /// </summary>
    [OneTimeSetUp]
    public void StartHost()
    {
        factory = new LambdaStatsFactory();
        var host = factory.WithWebHostBuilder(builder => builder.UseSetting("Batch:ScheduleJobs", "false"));
        jobs = host.Services.GetRequiredService<IRecurringJobManager>();
    }

    [OneTimeTearDown]
    public void StopHost() => factory.Dispose();

    [TestCase("0 * * * *")]
    [TestCase("10 0 * * *")]
    [TestCase("0 0 * * * *")]
    [TestCase(" 0\t* * * * ")]
    [TestCase("*/5 * * * *")]
    [TestCase("0 0 L * *")]
    [TestCase("0 0 ? * MON#2")]
    [TestCase("0 0 * * MON-FRI")]
    [TestCase("@daily")]
    [TestCase("@every_minute")]
    [TestCase("bad")]
    [TestCase("@bogus")]
    [TestCase("60 * * * *")]
    [TestCase("0 25 * * *")]
    [TestCase("0 * * * * * *")]
    [TestCase("0 0 * * 8")]
    [TestCase("*/0 * * * *")]
    public void Validate_CronExpression_AgreesWithHangfire(string expression)
    {
        var options = new BatchOptions { HourlyCron = expression };

        var result = new BatchCronValidator().Validate(null, options);

        Assert.That(result.Succeeded, Is.EqualTo(HangfireAccepts(expression)), result.FailureMessage);
    }

    [Test]
    public void Validate_BothInvalid_ReportsEach()
    {
        var options = new BatchOptions { HourlyCron = "bad", DailyCron = "0 0 0 * *" };

        var failures = new BatchCronValidator().Validate(null, options).Failures?.ToList() ?? [];

        using (Assert.EnterMultipleScope())
        {
            Assert.That(failures, Has.Count.EqualTo(2));
            Assert.That(failures, Has.One.StartsWith("Batch:HourlyCron 'bad' is not a valid cron expression"));
            Assert.That(failures, Has.One.StartsWith("Batch:DailyCron '0 0 0 * *' is not a valid cron expression"));
        }
    }

    [TestCase("")]
    [TestCase("  ")]
    public void Validate_EmptyExpression_LeftToEmptyCheck(string expression)
    {
        var result = new BatchCronValidator().Validate(null, new BatchOptions { DailyCron = expression });

        Assert.That(result.Succeeded, Is.True, "BatchModule reports an empty schedule with its own message");
    }

    /// <summary>Whether Hangfire registers a recurring job with <paramref name="expression"/>, as the service does at start.</summary>
    private bool HangfireAccepts(string expression)
    {
        try
        {
            jobs.AddOrUpdate("probe", () => Console.WriteLine(), expression, new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc });
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
