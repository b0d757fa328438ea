using Microsoft.Extensions.Configuration;

namespace LambdaStats.Modules.Storage.Elasticsearch;

/// <summary>Which adapter stores the batch views, bound from the <c>Storage</c> section.</summary>
public sealed class ViewStorageOptions
{
    public const string SectionName = "Storage";

    /// <summary><see cref="ViewStoreKind.Sqlite"/> (the default) or <see cref="ViewStoreKind.Elasticsearch"/>.</summary>
    public ViewStoreKind Views { get; set; } = ViewStoreKind.Sqlite;

    public ElasticsearchViewStoreOptions Elasticsearch { get; set; } = new();

    /// <summary>Reads the section and checks it, since the adapter is chosen while the host is composed, before options validation runs.</summary>
    /// <exception cref="InvalidOperationException">A value is missing or invalid; the message names the setting.</exception>
    public static ViewStorageOptions Read(IConfiguration configuration)
    {
        var options = configuration.GetSection(SectionName).Get<ViewStorageOptions>() ?? new ViewStorageOptions();
        if (!Enum.IsDefined(options.Views))
        {
            throw new InvalidOperationException($"Storage:Views must be Sqlite or Elasticsearch, not '{options.Views}'.");
        }

        if (options.Views == ViewStoreKind.Elasticsearch)
        {
            options.Elasticsearch.Check();
        }

        return options;
    }
}

public enum ViewStoreKind
{
    Sqlite,
    Elasticsearch,
}
