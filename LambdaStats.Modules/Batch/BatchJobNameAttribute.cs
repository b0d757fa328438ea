using System.Globalization;
using Hangfire;
using Hangfire.Common;
using Hangfire.Dashboard;

namespace LambdaStats.Modules.Batch;

/// <summary>
/// The name of a batch job on the Hangfire dashboard, in the language of the request (French or
/// English) and with its instants in UTC, whatever the culture.
/// </summary>
/// <remarks>
/// The formats number the job's arguments as <see cref="string.Format(string, object[])"/> does.
/// An instant shows as <c>2026-12-05 04:00Z</c>, and a null aggregation as every aggregation.
/// </remarks>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
internal sealed class BatchJobNameAttribute(string english, string french) : JobDisplayNameAttribute(english)
{
    public override string Format(DashboardContext context, Job job) => Format(job.Args, CultureInfo.CurrentUICulture);

    internal string Format(IReadOnlyList<object?> args, CultureInfo language)
    {
        var isFrench = language.TwoLetterISOLanguageName == "fr";
        var texts = args.Select(arg => arg switch
        {
            DateTimeOffset instant => instant.UtcDateTime.ToString("yyyy'-'MM'-'dd HH':'mm'Z'", CultureInfo.InvariantCulture),
            null => isFrench ? "toutes les agrégations" : "every aggregation",
            _ => Convert.ToString(arg, CultureInfo.InvariantCulture),
        }).ToArray<object?>();
        return string.Format(CultureInfo.InvariantCulture, isFrench ? french : DisplayName, texts);
    }
}
