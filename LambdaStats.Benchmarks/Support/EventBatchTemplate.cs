using System.Text;

namespace LambdaStats.Benchmarks.Support;

/// <summary>
/// The UTF-8 JSON body of one batch of events, with the id counter and the timestamp of every
/// event at known offsets, so that a sender patches them in place for each request instead of
/// serialising the batch again.
/// </summary>
internal sealed class EventBatchTemplate
{
    public const int CounterDigits = 12;
    private const string TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss'Z'";
    private const int TimestampLength = 20;

    private readonly byte[] body;
    private readonly int[] counterOffsets;
    private readonly int[] timestampOffsets;

    private EventBatchTemplate(byte[] body, int[] counterOffsets, int[] timestampOffsets)
    {
        this.body = body;
        this.counterOffsets = counterOffsets;
        this.timestampOffsets = timestampOffsets;
    }

    public int EventCount => counterOffsets.Length;

    public int Length => body.Length;

    /// <summary>
    /// Builds a batch of <paramref name="eventCount"/> events with the type mix of <see cref="EventMix"/>,
    /// spread over <paramref name="hubs"/> hubs and <paramref name="media"/> media.
    /// </summary>
    public static EventBatchTemplate Create(string runId, int eventCount, int hubs, int media, Random random)
    {
        // Every character written is ASCII, so character offsets are byte offsets.
        var json = new StringBuilder(eventCount * 220);
        var counters = new List<int>(eventCount);
        var timestamps = new List<int>(eventCount);
        var placeholderCounter = new string('0', CounterDigits);
        var placeholderTimestamp = new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero).ToString(TimestampFormat, System.Globalization.CultureInfo.InvariantCulture);

        json.Append('[');
        for (var i = 0; i < eventCount; i++)
        {
            if (i > 0)
            {
                json.Append(',');
            }

            var type = EventMix.Pick(random);
            var hub = random.Next(hubs);
            var medium = random.Next(media);
            json.Append("{\"id\":\"").Append(runId).Append('-');
            counters.Add(json.Length);
            json.Append(placeholderCounter).Append("\",\"type\":\"").Append(type).Append("\",\"occurredAt\":\"");
            timestamps.Add(json.Length);
            json.Append(placeholderTimestamp).Append("\",\"hubId\":\"hub-").Append(hub.ToString("D4", System.Globalization.CultureInfo.InvariantCulture)).Append('"');
            json.Append(",\"visitorId\":\"visitor-").Append(random.Next(1_000_000).ToString(System.Globalization.CultureInfo.InvariantCulture)).Append('"');
            AppendTypeFields(json, type, medium, random);
            json.Append('}');
        }

        json.Append(']');
        return new EventBatchTemplate(Encoding.UTF8.GetBytes(json.ToString()), counters.ToArray(), timestamps.ToArray());
    }

    /// <summary>Copies the body into <paramref name="destination"/> with ids firstCounter, firstCounter+1, … and the given time.</summary>
    public void Write(Span<byte> destination, long firstCounter, DateTimeOffset occurredAt)
    {
        body.CopyTo(destination);
        Span<byte> timestamp = stackalloc byte[TimestampLength];
        Encoding.ASCII.GetBytes(occurredAt.UtcDateTime.ToString(TimestampFormat, System.Globalization.CultureInfo.InvariantCulture), timestamp);
        for (var i = 0; i < counterOffsets.Length; i++)
        {
            WriteDigits(destination.Slice(counterOffsets[i], CounterDigits), firstCounter + i);
            timestamp.CopyTo(destination[timestampOffsets[i]..]);
        }
    }

    private static void AppendTypeFields(StringBuilder json, string type, int medium, Random random)
    {
        var mediaId = $",\"mediaId\":\"media-{medium:D6}\"";
        switch (type)
        {
            case "HubVisited":
                break;
            case "PageViewed":
                json.Append(mediaId)
                    .Append(",\"page\":").Append(1 + random.Next(40))
                    .Append(",\"durationSeconds\":").Append((random.Next(1, 6000) / 10.0).ToString("R", System.Globalization.CultureInfo.InvariantCulture));
                break;
            case "MediaShared":
                json.Append(mediaId).Append(",\"network\":\"").Append(random.Next(3) switch { 0 => "linkedin", 1 => "x", _ => "email" }).Append('"');
                break;
            default:
                json.Append(mediaId);
                break;
        }
    }

    private static void WriteDigits(Span<byte> destination, long value)
    {
        for (var i = destination.Length - 1; i >= 0; i--)
        {
            destination[i] = (byte)('0' + (value % 10));
            value /= 10;
        }
    }
}

/// <summary>
/// The event types a load carries and their shares: an assumed audience mix where page views and
/// opens dominate. It is a choice of this harness, not a measured production mix.
/// </summary>
internal static class EventMix
{
    private static readonly (string Type, int Weight)[] Weights =
    [
        ("PageViewed", 40),
        ("MediaOpened", 30),
        ("MediaDownloaded", 10),
        ("HubVisited", 10),
        ("MediaShared", 10),
    ];

    public static string Pick(Random random)
    {
        var roll = random.Next(100);
        foreach (var (type, weight) in Weights)
        {
            if (roll < weight)
            {
                return type;
            }

            roll -= weight;
        }

        return Weights[^1].Type;
    }
}
