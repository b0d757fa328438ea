using System.Diagnostics;
using System.Text.Json;
using LambdaStats.Benchmarks.Support;
using LambdaStats.Modules.Events.Contracts;
using LambdaStats.Modules.Events.Ingestion;
using LambdaStats.Modules.Speed;

namespace LambdaStats.Benchmarks;

/// <summary>
/// <c>ingest-stages</c>: cost per event of each stage of the ingest path, in this process and on
/// one thread: JSON parse of the body, event validation, append to a fresh SQLite event store, and
/// the speed layer. It explains the end-to-end figure of <c>ingest</c>; it does not replace it.
/// </summary>
internal static class IngestStagesHarness
{
    public static async Task<int> RunAsync(Options options)
    {
        var events = options.PositiveInt("events", 500_000);
        var batchSize = options.PositiveInt("batch", 1_000);
        var directory = RepositoryPaths.CreateWorkDirectory("lambdastats-stages", options.OptionalString("work-dir"));
        try
        {
            var random = new Random(42);
            var writer = new EventBatchWriter("stages00", hubs: 100, media: 10_000, visitors: 1_000_000);
            var batches = events / batchSize;
            var bodies = new byte[batches][];
            var buffer = new byte[writer.MaxBodyLength(batchSize)];
            var now = DateTimeOffset.UtcNow;
            for (var i = 0; i < batches; i++)
            {
                var length = writer.Write(buffer, (long)i * batchSize, batchSize, now.AddMinutes(-1), random);
                bodies[i] = buffer[..length];
            }

            await using var host = new ModuleHost(directory, TimeProvider.System);
            var parser = new EventParser(new IngestionOptions());
            var store = host.Get<IEventStore>();
            var speed = host.Get<SpeedLayer>();

            var parse = TimeSpan.Zero;
            var validate = TimeSpan.Zero;
            var append = TimeSpan.Zero;
            var speedAdd = TimeSpan.Zero;
            var clock = new Stopwatch();
            foreach (var body in bodies)
            {
                clock.Restart();
                using var document = JsonDocument.Parse(body);
                var elements = document.RootElement.EnumerateArray().ToList();
                parse += clock.Elapsed;

                clock.Restart();
                var parsed = new List<LambdaEvent>(elements.Count);
                foreach (var element in elements)
                {
                    parsed.Add(parser.Parse(element, now).Event ?? throw new InvalidOperationException("A generated event was rejected."));
                }

                validate += clock.Elapsed;

                clock.Restart();
                var result = await store.AppendAsync(parsed, CancellationToken.None);
                append += clock.Elapsed;

                clock.Restart();
                speed.Add(result.Stored);
                speedAdd += clock.Elapsed;
            }

            var total = batches * batchSize;
            Console.WriteLine($"{total:N0} events in batches of {batchSize:N0}, one thread, microseconds per event:");
            Console.WriteLine(FormattableString.Invariant($"  JSON parse (JsonDocument):     {parse.TotalMicroseconds / total,8:F2}"));
            Console.WriteLine(FormattableString.Invariant($"  validation (EventParser):      {validate.TotalMicroseconds / total,8:F2}"));
            Console.WriteLine(FormattableString.Invariant($"  append (SqliteEventStore):     {append.TotalMicroseconds / total,8:F2}"));
            Console.WriteLine(FormattableString.Invariant($"  speed layer (SpeedLayer.Add):  {speedAdd.TotalMicroseconds / total,8:F2}"));
            return 0;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
