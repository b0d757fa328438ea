using System.Text;

namespace LambdaStats.Modules.Storage.Sqlite;

/// <summary>
/// Turns UTF-8 bytes into strings and hands out one instance per distinct short value, so a read
/// that meets the same hub, medium or page many times allocates each string once.
/// </summary>
/// <remarks>
/// Keeps at most <c>maxCount</c> strings; past that, and for values longer than
/// <see cref="MaxPooledBytes"/>, it allocates a new string each time. Not thread-safe: one pool per
/// read.
/// </remarks>
internal sealed class Utf8StringPool(int maxCount)
{
    /// <summary>Longest value pooled, in UTF-8 bytes; longer values are rare and mostly unique.</summary>
    public const int MaxPooledBytes = 128;

    private readonly Dictionary<string, string> strings = new(StringComparer.Ordinal);

    public string Get(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > MaxPooledBytes)
        {
            return Encoding.UTF8.GetString(utf8);
        }

        // UTF-8 never needs more UTF-16 code units than it has bytes.
        Span<char> chars = stackalloc char[MaxPooledBytes];
        var length = Encoding.UTF8.GetChars(utf8, chars);
        var value = chars[..length];
        var lookup = strings.GetAlternateLookup<ReadOnlySpan<char>>();
        if (lookup.TryGetValue(value, out var pooled))
        {
            return pooled;
        }

        var created = new string(value);
        if (strings.Count < maxCount)
        {
            strings.Add(created, created);
        }

        return created;
    }
}
