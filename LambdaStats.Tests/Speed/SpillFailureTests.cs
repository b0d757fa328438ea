using System.Diagnostics.Metrics;
using LambdaStats.Modules.Aggregation;
using LambdaStats.Modules.Aggregation.Columns;
using LambdaStats.Modules.Common;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.Speed;
using LambdaStats.Tests.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NSubstitute;

namespace LambdaStats.Tests.Speed;

/// <summary>A scratch file that cannot be created: the pair columns keep their pairs in memory, exact.</summary>
[TestFixture]
public sealed class SpillFailureTests
{
    private static readonly DateTimeOffset At = new(2026, 6, 1, 10, 15, 0, TimeSpan.Zero);

    [Test]
    public void Add_SpillFails_KeepsPairsInMemory()
    {
        using var directory = new TemporaryDirectory();
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using var check = new DivergenceCheck(services.GetRequiredService<IMeterFactory>(), NullLogger<DivergenceCheck>.Instance);

        // The scratch directory's path is a file, so every spill fails.
        var notADirectory = Path.Combine(directory.Path, "file");
        File.WriteAllText(notADirectory, "");
        var logger = Substitute.For<ILogger<PairScratch>>();
        logger.IsEnabled(Arg.Any<LogLevel>()).Returns(true);
        var definition = new AggregationDefinition(
            "reading",
            EventType.PageViewed,
            [EventField.HubId],
            [
                new OutputDefinition("readers", AggregatorKind.DistinctCount, EventField.VisitorId),
                new OutputDefinition("viewsByPage", AggregatorKind.ProjectionAdd, groupBy: EventField.Page),
            ]);
        var speed = new SpeedLayer(new AggregationCatalog([definition]), check, new PairScratch(notADirectory, 2, logger));
        var events = Enumerable.Range(0, 6).Select(i => new LambdaEvent
        {
            Id = $"e{i}",
            Type = EventType.PageViewed,
            OccurredAt = At,
            HubId = "h1",
            MediaId = "m1",
            VisitorId = $"v{i % 4}",
            Page = 1 + (i % 3),
        }).ToList();

        Assert.That(() => speed.Add(events), Throws.Nothing);

        var hour = UtcHour.Containing(At);
        var row = speed.TakeSnapshot(definition, new KeyFilter("h1"), hour, hour.Next).Rows.Single().Row;
        var errors = logger.ReceivedCalls().Count(call => call.GetMethodInfo().Name == nameof(ILogger.Log) && (LogLevel)call.GetArguments()[0]! == LogLevel.Error);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(row.Outputs[0].SortValue, Is.EqualTo(4));
            Assert.That(((ProjectionAddAccumulator)row.Outputs[1]).Groups, Has.Count.EqualTo(3));
            Assert.That(errors, Is.EqualTo(2), "one error per output, not one per event");
            Assert.That(Directory.GetFiles(directory.Path), Is.EqualTo(new[] { notADirectory }));
        }
    }
}
