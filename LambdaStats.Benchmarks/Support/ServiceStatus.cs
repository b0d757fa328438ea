using System.Text.Json;

namespace LambdaStats.Benchmarks.Support;

/// <summary>
/// The figures a soak run reads from <c>GET /api/admin/status</c>: the managed memory of the
/// service and where the hourly batch and the speed layer stand.
/// </summary>
/// <param name="ManagedHeapBytes">Bytes the GC counts as allocated now (<c>GC.GetTotalMemory(false)</c>).</param>
/// <param name="HeapAfterLastGcBytes">Heap size after the last garbage collection.</param>
/// <param name="CommittedBytes">Memory the GC had committed after the last garbage collection.</param>
/// <param name="Gen2Collections">Gen 2 collections since the service started.</param>
/// <param name="Watermark">The lowest hourly watermark over the aggregations, UTC; null until every aggregation has one.</param>
/// <param name="SpeedHours">The hours held by the speed layer in any aggregation, UTC, in order.</param>
/// <param name="StoredEvents">Stored events over all event types.</param>
internal sealed record ServiceStatus(
    long ManagedHeapBytes,
    long HeapAfterLastGcBytes,
    long CommittedBytes,
    int Gen2Collections,
    DateTimeOffset? Watermark,
    IReadOnlyList<DateTimeOffset> SpeedHours,
    long StoredEvents)
{
    /// <summary>Reads the status, or returns null when the request fails or times out.</summary>
    public static async Task<ServiceStatus?> TryReadAsync(HttpClient client, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await client.GetAsync("/api/admin/status", cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }

            using var document = JsonDocument.Parse(await response.Content.ReadAsStreamAsync(cancellationToken));
            return Parse(document.RootElement);
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException)
        {
            return null;
        }
    }

    private static ServiceStatus Parse(JsonElement root)
    {
        var memory = root.GetProperty("memory");
        var aggregations = root.GetProperty("aggregations").EnumerateArray().ToList();

        // An aggregation without a watermark has no batch views yet, so it is the lowest.
        var watermarks = aggregations.Select(a => a.GetProperty("watermark")).ToList();
        DateTimeOffset? watermark = watermarks.Count > 0 && watermarks.All(w => w.ValueKind == JsonValueKind.String)
            ? watermarks.Min(w => w.GetDateTimeOffset())
            : null;
        var speedHours = aggregations
            .SelectMany(a => a.GetProperty("speedHours").EnumerateArray())
            .Select(h => h.GetDateTimeOffset())
            .Distinct()
            .Order()
            .ToList();

        // Aggregations of one event type report the same count, so each type counts once.
        var storedEvents = aggregations
            .GroupBy(a => a.GetProperty("eventType").GetString())
            .Sum(type => type.First().GetProperty("storedEvents").GetInt64());

        return new ServiceStatus(
            memory.GetProperty("managedHeapBytes").GetInt64(),
            memory.GetProperty("heapSizeAfterLastGcBytes").GetInt64(),
            memory.GetProperty("committedBytes").GetInt64(),
            memory.GetProperty("gen2Collections").GetInt32(),
            watermark,
            speedHours,
            storedEvents);
    }
}
