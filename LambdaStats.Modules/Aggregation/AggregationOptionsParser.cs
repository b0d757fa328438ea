using LambdaStats.Modules.Events.Contracts;

namespace LambdaStats.Modules.Aggregation;

/// <summary>Turns one configured aggregation into a definition, collecting every error with its configuration path.</summary>
internal static class AggregationOptionsParser
{
    private static readonly Dictionary<string, AggregatorKind> Aggregators = new(StringComparer.OrdinalIgnoreCase)
    {
        ["count"] = AggregatorKind.Count,
        ["add"] = AggregatorKind.Add,
        ["exists"] = AggregatorKind.Exists,
        ["projectionAdd"] = AggregatorKind.ProjectionAdd,
    };

    public static AggregationDefinition? TryParse(AggregationDefinitionOptions options, string path, List<string> errors)
    {
        var errorCount = errors.Count;
        if (string.IsNullOrWhiteSpace(options.Name))
        {
            errors.Add($"{path}:name is missing.");
        }

        var name = options.Name ?? path;
        EventType eventType = default;
        if (options.EventType is null || !Enum.GetNames<EventType>().Contains(options.EventType, StringComparer.Ordinal))
        {
            errors.Add($"{path}:eventType '{options.EventType}' of aggregation '{name}' is not an event type; use one of {string.Join(", ", Enum.GetNames<EventType>())}.");
        }
        else
        {
            eventType = Enum.Parse<EventType>(options.EventType);
        }

        var key = new List<EventField>();
        foreach (var fieldName in options.Key)
        {
            if (EventFields.TryParse(fieldName, out var field) && (field == EventField.Page || !EventFields.IsNumeric(field)))
            {
                key.Add(field);
            }
            else
            {
                errors.Add($"{path}:key of aggregation '{name}' names '{fieldName}', which is not a string event field.");
            }
        }

        if (key.Count == 0 || key[0] != EventField.HubId || key.Count > AggregationDefinition.MaxKeyFields)
        {
            errors.Add($"{path}:key of aggregation '{name}' must start with hubId and have at most {AggregationDefinition.MaxKeyFields} fields.");
        }

        var outputs = new List<OutputDefinition>();
        for (var i = 0; i < options.Outputs.Count; i++)
        {
            var output = TryParseOutput(options.Outputs[i], $"{path}:outputs:{i}", name, errors);
            if (output is not null)
            {
                outputs.Add(output);
            }
        }

        if (options.Outputs.Count == 0)
        {
            errors.Add($"{path}:outputs of aggregation '{name}' is empty; add at least one output.");
        }

        if (outputs.Select(o => o.Name).Distinct(StringComparer.Ordinal).Count() != outputs.Count)
        {
            errors.Add($"{path}:outputs of aggregation '{name}' repeat an output name.");
        }

        return errors.Count == errorCount
            ? new AggregationDefinition(name, eventType, key, outputs, options.SpeedLayer)
            : null;
    }

    private static OutputDefinition? TryParseOutput(OutputOptions options, string path, string aggregation, List<string> errors)
    {
        var errorCount = errors.Count;
        if (string.IsNullOrWhiteSpace(options.Name))
        {
            errors.Add($"{path}:name of an output of aggregation '{aggregation}' is missing.");
        }

        if (options.Aggregator is null || !Aggregators.TryGetValue(options.Aggregator, out var kind))
        {
            errors.Add($"{path}:aggregator '{options.Aggregator}' of aggregation '{aggregation}' is unknown; use one of {string.Join(", ", Aggregators.Keys)}.");
            return null;
        }

        EventField? field = null;
        if (options.Field is not null)
        {
            if (EventFields.TryParse(options.Field, out var parsed) && EventFields.IsNumeric(parsed))
            {
                field = parsed;
            }
            else
            {
                errors.Add($"{path}:field '{options.Field}' of aggregation '{aggregation}' is not a numeric event field (page, durationSeconds).");
            }
        }
        else if (kind == AggregatorKind.Add)
        {
            errors.Add($"{path}:field of aggregation '{aggregation}' is missing; the add aggregator sums a numeric field.");
        }

        EventField? groupBy = null;
        if (options.GroupBy is not null)
        {
            if (EventFields.TryParse(options.GroupBy, out var parsed))
            {
                groupBy = parsed;
            }
            else
            {
                errors.Add($"{path}:groupBy '{options.GroupBy}' of aggregation '{aggregation}' is not an event field.");
            }
        }
        else if (kind == AggregatorKind.ProjectionAdd)
        {
            errors.Add($"{path}:groupBy of aggregation '{aggregation}' is missing; projectionAdd groups by an event field.");
        }

        return errors.Count == errorCount ? new OutputDefinition(options.Name!, kind, field, groupBy) : null;
    }
}
