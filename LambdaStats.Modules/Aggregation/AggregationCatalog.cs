using LambdaStats.Modules.Events.Contracts;

namespace LambdaStats.Modules.Aggregation;

/// <summary>The configured aggregations, validated once at startup.</summary>
public sealed class AggregationCatalog
{
    private readonly Dictionary<string, AggregationDefinition> byName;

    public AggregationCatalog(IEnumerable<AggregationDefinition> definitions)
    {
        All = definitions.ToArray();
        byName = new Dictionary<string, AggregationDefinition>(StringComparer.Ordinal);
        foreach (var definition in All)
        {
            if (!byName.TryAdd(definition.Name, definition))
            {
                throw new ArgumentException($"Aggregation name '{definition.Name}' is configured twice.", nameof(definitions));
            }
        }

        ByEventType = All.GroupBy(definition => definition.EventType)
            .ToDictionary(group => group.Key, group => (IReadOnlyList<AggregationDefinition>)group.ToArray());
    }

    public IReadOnlyList<AggregationDefinition> All { get; }

    public IReadOnlyDictionary<EventType, IReadOnlyList<AggregationDefinition>> ByEventType { get; }

    public bool TryGet(string name, out AggregationDefinition definition) => byName.TryGetValue(name, out definition!);

    public AggregationDefinition Get(string name) =>
        byName.TryGetValue(name, out var definition)
            ? definition
            : throw new KeyNotFoundException($"Unknown aggregation '{name}'; known aggregations: {string.Join(", ", byName.Keys)}.");

    /// <summary>
    /// Builds the catalogue from configuration. Every problem found is listed in one exception,
    /// so that an operator fixes the configuration in one pass.
    /// </summary>
    public static AggregationCatalog FromOptions(AggregationOptions options)
    {
        var errors = new List<string>();
        var definitions = new List<AggregationDefinition>();
        for (var i = 0; i < options.Items.Count; i++)
        {
            var definition = AggregationOptionsParser.TryParse(options.Items[i], $"{AggregationOptions.SectionName}:{i}", errors);
            if (definition is not null)
            {
                definitions.Add(definition);
            }
        }

        var duplicates = definitions.GroupBy(d => d.Name).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        errors.AddRange(duplicates.Select(name => $"Aggregation name '{name}' is configured more than once."));
        if (definitions.Count == 0 && errors.Count == 0)
        {
            errors.Add($"No aggregation is configured: add at least one under '{AggregationOptions.SectionName}' in appsettings.json.");
        }

        if (errors.Count > 0)
        {
            throw new InvalidOperationException("Invalid aggregation configuration:" + Environment.NewLine + string.Join(Environment.NewLine, errors.Select(e => " - " + e)));
        }

        return new AggregationCatalog(definitions);
    }
}
