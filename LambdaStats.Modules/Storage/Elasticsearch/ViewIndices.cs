using Elastic.Clients.Elasticsearch.IndexManagement;
using Elastic.Clients.Elasticsearch.Mapping;

namespace LambdaStats.Modules.Storage.Elasticsearch;

/// <summary>Names and mappings of the three indices of the views.</summary>
internal sealed class ViewIndices(string prefix)
{
    public string Hours { get; } = prefix + "view-hours";

    public string Days { get; } = prefix + "view-days";

    public string Frontiers { get; } = prefix + "view-frontiers";

    public IEnumerable<string> All => [Hours, Days, Frontiers];

    /// <summary>Returns the request that creates <paramref name="index"/> with its mapping.</summary>
    /// <remarks>
    /// The mappings are strict, so a document with another shape is rejected instead of adding
    /// fields. The block is a binary field: kept in <c>_source</c>, neither indexed nor searchable.
    /// The hub is a keyword, which Lucene indexes up to 32,766 bytes: a longer hub id cannot be
    /// stored, where SQLite would store it.
    /// </remarks>
    public CreateIndexRequest CreateRequest(string index)
    {
        var properties = index == Frontiers
            ? new Properties
            {
                { "aggregation", new KeywordProperty() },
                { "watermarkHour", new LongNumberProperty() },
                { "sequence", new LongNumberProperty() },
                { "dailyWatermarkDay", new LongNumberProperty() },
            }
            : new Properties
            {
                { "aggregation", new KeywordProperty() },
                { "bucket", new LongNumberProperty() },
                { "hub", new KeywordProperty() },
                { "keyCount", new IntegerNumberProperty { Index = false } },
                { "write", new KeywordProperty() },
                { "block", new BinaryProperty() },
            };
        return new CreateIndexRequest(index)
        {
            Mappings = new TypeMapping { Dynamic = DynamicMapping.Strict, Properties = properties },
        };
    }
}
