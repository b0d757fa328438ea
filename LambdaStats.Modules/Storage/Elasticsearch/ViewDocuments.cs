using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;

namespace LambdaStats.Modules.Storage.Elasticsearch;

/// <summary>
/// The rows of one hub in one hourly or daily bucket of one aggregation: one Elasticsearch
/// document, so that a query of a hub reads one document per bucket.
/// </summary>
internal sealed class BlockDocument
{
    /// <summary>The aggregation's view id.</summary>
    [JsonPropertyName("aggregation")]
    public string Aggregation { get; init; } = string.Empty;

    /// <summary>Index of the <c>UtcHour</c> or <c>UtcDay</c>.</summary>
    [JsonPropertyName("bucket")]
    public long Bucket { get; init; }

    [JsonPropertyName("hub")]
    public string Hub { get; init; } = string.Empty;

    [JsonPropertyName("keyCount")]
    public int KeyCount { get; init; }

    /// <summary>Id of the write that stored the document; a commit deletes the documents of its buckets that carry another.</summary>
    [JsonPropertyName("write")]
    public string Write { get; init; } = string.Empty;

    /// <summary>The hub's rows in the binary form of <c>ViewBlockCodec</c>, sent as base64.</summary>
    [JsonPropertyName("block")]
    public byte[] Block { get; init; } = [];
}

/// <summary>The batch frontier of one aggregation.</summary>
internal sealed class FrontierDocument
{
    [JsonPropertyName("aggregation")]
    public string Aggregation { get; init; } = string.Empty;

    [JsonPropertyName("watermarkHour")]
    public long WatermarkHour { get; init; }

    [JsonPropertyName("sequence")]
    public long Sequence { get; init; }

    [JsonPropertyName("dailyWatermarkDay")]
    public long DailyWatermarkDay { get; init; }
}

/// <summary>Document ids of the view indices.</summary>
/// <remarks>
/// An id is the hex SHA-256 of its parts, because Elasticsearch limits ids to 512 bytes and a
/// hub id has no length limit. Each part is preceded by its byte count, so two different lists of
/// parts never give the same input.
/// </remarks>
internal static class ViewDocumentIds
{
    public static string Block(string viewId, long bucket, string hub) => Hash(viewId, bucket.ToString(System.Globalization.CultureInfo.InvariantCulture), hub);

    public static string Frontier(string viewId) => Hash(viewId);

    private static string Hash(params string[] parts)
    {
        var input = new List<byte>();
        foreach (var part in parts)
        {
            var bytes = Encoding.UTF8.GetBytes(part);
            input.AddRange(BitConverter.GetBytes(bytes.Length));
            input.AddRange(bytes);
        }

        return Convert.ToHexStringLower(SHA256.HashData(input.ToArray()));
    }
}
