using System.Globalization;
using System.Text;

namespace LambdaStats.Benchmarks.Support;

/// <summary>
/// Writes the UTF-8 JSON body of one batch of events, drawing the type, hub, media, page and
/// visitor of every event from the configured populations, so that a load carries as many
/// distinct keys as those populations allow.
/// </summary>
/// <remarks>
/// Every fixed part of an event, including each hub and media id, is encoded to UTF-8 once in the
/// constructor. <see cref="Write"/> then copies those bytes and formats numbers in place, so a
/// sender allocates nothing per event. Every byte written is ASCII.
/// </remarks>
internal sealed class EventBatchWriter
{
    public const int CounterDigits = 12;
    public const int Pages = 40;
    private const string TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss'Z'";
    private const int TimestampLength = 20;
    private const int MaxIntDigits = 11;

    private static readonly string[] Networks = ["linkedin", "x", "email"];

    private readonly byte[] idPrefix;
    private readonly byte[][] typeFragments;
    private readonly byte[][] hubFragments;
    private readonly byte[][] mediaFragments;
    private readonly byte[][] pageFragments;
    private readonly byte[][] networkFragments;
    private readonly byte[] visitorPrefix = Ascii("\",\"visitorId\":\"visitor-");
    private readonly byte[] durationPrefix = Ascii(",\"durationSeconds\":");
    private readonly int visitors;
    private readonly int maxEventLength;

    /// <param name="runId">Prefix of every event id, so that separate runs do not send duplicates.</param>
    /// <param name="hubs">Number of distinct hub ids, <c>hub-0000</c> upwards.</param>
    /// <param name="media">Number of distinct media ids, <c>media-000000</c> upwards.</param>
    /// <param name="visitors">Number of distinct visitor ids.</param>
    public EventBatchWriter(string runId, int hubs, int media, int visitors)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hubs);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(media);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(visitors);

        idPrefix = Ascii($"{{\"id\":\"{runId}-");
        typeFragments = EventMix.Types.Select(type => Ascii($"\",\"type\":\"{type}\",\"occurredAt\":\"")).ToArray();
        hubFragments = Enumerable.Range(0, hubs).Select(hub => Ascii(FormattableString.Invariant($"\",\"hubId\":\"hub-{hub:D4}"))).ToArray();
        mediaFragments = Enumerable.Range(0, media).Select(medium => Ascii(FormattableString.Invariant($",\"mediaId\":\"media-{medium:D6}\""))).ToArray();
        pageFragments = Enumerable.Range(1, Pages).Select(page => Ascii(FormattableString.Invariant($",\"page\":{page}"))).ToArray();
        networkFragments = Networks.Select(network => Ascii($",\"network\":\"{network}\"")).ToArray();
        this.visitors = visitors;

        // The longest type-specific tail is a page view's (media, page, duration) or a share's
        // (media, network); the duration has at most 3 digits, a dot and 1 digit.
        var longestTail = mediaFragments.Max(f => f.Length)
            + Math.Max(pageFragments.Max(f => f.Length) + durationPrefix.Length + 5, networkFragments.Max(f => f.Length));
        maxEventLength = idPrefix.Length + CounterDigits + typeFragments.Max(f => f.Length) + TimestampLength
            + hubFragments.Max(f => f.Length) + visitorPrefix.Length + MaxIntDigits + 1 + longestTail + 2;
    }

    /// <summary>The maximum length in bytes of a body of <paramref name="eventCount"/> events.</summary>
    public int MaxBodyLength(int eventCount) => 2 + (eventCount * maxEventLength);

    /// <summary>
    /// Writes a JSON array of <paramref name="eventCount"/> events with ids
    /// <c>RUNID-firstCounter</c> upwards, all occurring at <paramref name="occurredAt"/>, and
    /// returns the number of bytes written.
    /// </summary>
    /// <param name="destination">At least <see cref="MaxBodyLength"/> bytes.</param>
    /// <param name="random">Source of every draw; not thread-safe, so one per sender.</param>
    public int Write(Span<byte> destination, long firstCounter, int eventCount, DateTimeOffset occurredAt, Random random)
    {
        Span<byte> timestamp = stackalloc byte[TimestampLength];
        if (!occurredAt.UtcDateTime.TryFormat(timestamp, out var timestampLength, TimestampFormat, CultureInfo.InvariantCulture) || timestampLength != TimestampLength)
        {
            throw new ArgumentOutOfRangeException(nameof(occurredAt), occurredAt, "The time must format as yyyy-MM-ddTHH:mm:ssZ.");
        }

        var position = 0;
        destination[position++] = (byte)'[';
        for (var i = 0; i < eventCount; i++)
        {
            if (i > 0)
            {
                destination[position++] = (byte)',';
            }

            var type = EventMix.PickIndex(random);
            Append(destination, ref position, idPrefix);
            WriteDigits(destination.Slice(position, CounterDigits), firstCounter + i);
            position += CounterDigits;
            Append(destination, ref position, typeFragments[type]);
            Append(destination, ref position, timestamp);
            Append(destination, ref position, hubFragments[random.Next(hubFragments.Length)]);
            Append(destination, ref position, visitorPrefix);
            position += FormatInt(destination[position..], random.Next(visitors));
            destination[position++] = (byte)'"';
            WriteTypeFields(destination, ref position, EventMix.Types[type], random);
            destination[position++] = (byte)'}';
        }

        destination[position++] = (byte)']';
        return position;
    }

    private void WriteTypeFields(Span<byte> destination, ref int position, string type, Random random)
    {
        switch (type)
        {
            case "HubVisited":
                break;
            case "PageViewed":
                Append(destination, ref position, mediaFragments[random.Next(mediaFragments.Length)]);
                Append(destination, ref position, pageFragments[random.Next(pageFragments.Length)]);
                Append(destination, ref position, durationPrefix);

                // 0.1 to 599.9 seconds, written as tenths: "12.3".
                var tenths = random.Next(1, 6000);
                position += FormatInt(destination[position..], tenths / 10);
                destination[position++] = (byte)'.';
                destination[position++] = (byte)('0' + (tenths % 10));
                break;
            case "MediaShared":
                Append(destination, ref position, mediaFragments[random.Next(mediaFragments.Length)]);
                Append(destination, ref position, networkFragments[random.Next(networkFragments.Length)]);
                break;
            default:
                Append(destination, ref position, mediaFragments[random.Next(mediaFragments.Length)]);
                break;
        }
    }

    private static void Append(Span<byte> destination, ref int position, ReadOnlySpan<byte> fragment)
    {
        fragment.CopyTo(destination[position..]);
        position += fragment.Length;
    }

    private static int FormatInt(Span<byte> destination, int value)
    {
        if (!value.TryFormat(destination, out var written, default, CultureInfo.InvariantCulture))
        {
            throw new ArgumentException("The destination is too short for the batch; size it with MaxBodyLength.", nameof(destination));
        }

        return written;
    }

    private static void WriteDigits(Span<byte> destination, long value)
    {
        for (var i = destination.Length - 1; i >= 0; i--)
        {
            destination[i] = (byte)('0' + (value % 10));
            value /= 10;
        }
    }

    private static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);
}

/// <summary>
/// The event types a load carries and their shares: an assumed audience mix where page views and
/// opens dominate. It is a choice of this harness, not a measured production mix.
/// </summary>
internal static class EventMix
{
    private static readonly int[] Weights = [40, 30, 10, 10, 10];

    /// <summary>The types, in the order of their weights.</summary>
    public static readonly string[] Types = ["PageViewed", "MediaOpened", "MediaDownloaded", "HubVisited", "MediaShared"];

    public static string Pick(Random random) => Types[PickIndex(random)];

    /// <summary>Draws a type with the shares of the mix and returns its index in <see cref="Types"/>.</summary>
    public static int PickIndex(Random random)
    {
        var roll = random.Next(100);
        for (var i = 0; i < Weights.Length; i++)
        {
            if (roll < Weights[i])
            {
                return i;
            }

            roll -= Weights[i];
        }

        return Weights.Length - 1;
    }
}
