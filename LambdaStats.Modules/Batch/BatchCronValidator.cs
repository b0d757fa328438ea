using Cronos;
using Microsoft.Extensions.Options;

namespace LambdaStats.Modules.Batch;

/// <summary>
/// Rejects a <c>Batch:HourlyCron</c> or <c>Batch:DailyCron</c> that Hangfire would reject when it
/// schedules the jobs. The check runs with the other settings at start, so an invalid expression
/// stops the service before it opens a database, with one line that names the setting and value.
/// </summary>
/// <remarks>
/// Hangfire 1.8 parses with an internal copy of the Cronos library, after it counts the fields: 5,
/// or 6 with seconds first, unless the expression is a macro such as <c>@daily</c>. This check
/// applies the same count and the Cronos package. Empty values are left to the checks in
/// <see cref="BatchModule"/> that report them as empty.
/// </remarks>
internal sealed class BatchCronValidator : IValidateOptions<BatchOptions>
{
    private static readonly char[] FieldSeparators = [' ', '\t'];

    public ValidateOptionsResult Validate(string? name, BatchOptions options)
    {
        var failures = new List<string>();
        if (Check($"{BatchOptions.SectionName}:{nameof(BatchOptions.HourlyCron)}", options.HourlyCron, "0 * * * *") is { } hourly)
        {
            failures.Add(hourly);
        }

        if (Check($"{BatchOptions.SectionName}:{nameof(BatchOptions.DailyCron)}", options.DailyCron, "10 0 * * *") is { } daily)
        {
            failures.Add(daily);
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>Returns the failure message of the setting <paramref name="key"/>, or null when its value is valid or empty.</summary>
    private static string? Check(string key, string? expression, string example)
    {
        if (string.IsNullOrWhiteSpace(expression) || FindError(expression) is not { } reason)
        {
            return null;
        }

        return $"{key} '{expression}' is not a valid cron expression: {reason}. Set a cron expression such as '{example}', evaluated in UTC.";
    }

    /// <summary>Returns why Hangfire would reject <paramref name="expression"/>, or null when it accepts it.</summary>
    private static string? FindError(string expression)
    {
        var format = CronFormat.Standard;
        if (!expression.StartsWith('@'))
        {
            var fields = expression.Split(FieldSeparators, StringSplitOptions.RemoveEmptyEntries).Length;
            if (fields == 6)
            {
                format = CronFormat.IncludeSeconds;
            }
            else if (fields != 5)
            {
                return $"Hangfire takes 5 fields, or 6 with seconds first, not {fields}";
            }
        }

        try
        {
            CronExpression.Parse(expression, format);
            return null;
        }
        catch (CronFormatException exception)
        {
            return exception.Message.TrimEnd('.');
        }
    }
}
