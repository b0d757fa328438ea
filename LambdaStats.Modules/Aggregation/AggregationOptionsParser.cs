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
        ["min"] = AggregatorKind.Min,
        ["max"] = AggregatorKind.Max,
        ["distinctCount"] = AggregatorKind.DistinctCount,
    };

    private static readonly string FieldNames = string.Join(", ", Enum.GetValues<EventField>().Select(EventFields.JsonName));

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

        var field = kind == AggregatorKind.DistinctCount
            ? TryParseDistinctField(options, path, aggregation, errors)
            : TryParseNumericField(options, kind, path, aggregation, errors);

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

        var (mode, precision) = ParseDistinctCountSettings(options, kind, path, aggregation, errors);
        return errors.Count == errorCount ? new OutputDefinition(options.Name!, kind, field, groupBy, mode, precision) : null;
    }

    /// <summary>Parses the field of every aggregator but <c>distinctCount</c>: a numeric field, which <c>add</c>, <c>min</c> and <c>max</c> require.</summary>
    private static EventField? TryParseNumericField(OutputOptions options, AggregatorKind kind, string path, string aggregation, List<string> errors)
    {
        if (options.Field is not null)
        {
            if (EventFields.TryParse(options.Field, out var parsed) && EventFields.IsNumeric(parsed))
            {
                return parsed;
            }

            errors.Add($"{path}:field '{options.Field}' of aggregation '{aggregation}' is not a numeric event field (page, durationSeconds).");
        }
        else if (kind == AggregatorKind.Add)
        {
            errors.Add($"{path}:field of aggregation '{aggregation}' is missing; the add aggregator sums a numeric field.");
        }
        else if (kind is AggregatorKind.Min or AggregatorKind.Max)
        {
            var aggregator = kind == AggregatorKind.Min ? "min" : "max";
            errors.Add($"{path}:field of aggregation '{aggregation}' is missing; the {aggregator} aggregator reads a numeric field (page, durationSeconds).");
        }

        return null;
    }

    /// <summary>Parses the field of <c>distinctCount</c>, which may be any event field, string or numeric.</summary>
    private static EventField? TryParseDistinctField(OutputOptions options, string path, string aggregation, List<string> errors)
    {
        if (options.Field is null)
        {
            errors.Add($"{path}:field of aggregation '{aggregation}' is missing; the distinctCount aggregator counts the distinct values of an event field, such as visitorId.");
            return null;
        }

        if (EventFields.TryParse(options.Field, out var parsed))
        {
            return parsed;
        }

        errors.Add($"{path}:field '{options.Field}' of aggregation '{aggregation}' is not an event field; use one of {FieldNames}.");
        return null;
    }

    /// <summary>
    /// Parses <c>mode</c> and <c>precision</c>, which only <c>distinctCount</c> takes, and
    /// <c>precision</c> only in hll mode. Returns null for a setting that is absent or invalid.
    /// </summary>
    private static (DistinctCountMode? Mode, int? Precision) ParseDistinctCountSettings(OutputOptions options, AggregatorKind kind, string path, string aggregation, List<string> errors)
    {
        if (kind != AggregatorKind.DistinctCount)
        {
            if (options.Mode is not null)
            {
                errors.Add($"{path}:mode '{options.Mode}' of aggregation '{aggregation}' applies only to the distinctCount aggregator; remove it.");
            }

            if (options.Precision is not null)
            {
                errors.Add($"{path}:precision of aggregation '{aggregation}' applies only to the distinctCount aggregator in hll mode; remove it.");
            }

            return (null, null);
        }

        DistinctCountMode? mode = DistinctCountMode.Exact;
        if (options.Mode is not null)
        {
            if (DistinctCountModes.ByName.TryGetValue(options.Mode, out var parsed))
            {
                mode = parsed;
            }
            else
            {
                errors.Add($"{path}:mode '{options.Mode}' of aggregation '{aggregation}' is unknown; use exact (the default) or hll.");
                mode = null;
            }
        }

        if (options.Precision is not { } precision)
        {
            return (mode, null);
        }

        if (mode == DistinctCountMode.Exact)
        {
            var modeText = options.Mode is null ? "exact, the default" : $"'{options.Mode}'";
            errors.Add($"{path}:precision of aggregation '{aggregation}' applies only to mode hll, but the mode is {modeText}; set mode to hll or remove precision.");
        }
        else if (precision is < HyperLogLogSketch.MinPrecision or > HyperLogLogSketch.MaxPrecision)
        {
            errors.Add($"{path}:precision {precision} of aggregation '{aggregation}' is out of range; use {HyperLogLogSketch.MinPrecision} to {HyperLogLogSketch.MaxPrecision} (default {HyperLogLogSketch.DefaultPrecision}).");
        }

        return (mode, precision);
    }
}
