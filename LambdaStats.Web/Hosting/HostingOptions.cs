namespace LambdaStats.Web.Hosting;

/// <summary>Host-level switches, bound from the <c>Hosting</c> section.</summary>
public sealed class HostingOptions
{
    public const string SectionName = "Hosting";

    /// <summary>Whether this process runs a Hangfire server that executes the batch jobs. Default true.</summary>
    public bool RunJobServer { get; set; } = true;

    /// <summary>How long the Hangfire server waits for running jobs at shutdown. Default 5 seconds.</summary>
    public TimeSpan JobServerShutdownTimeout { get; set; } = TimeSpan.FromSeconds(5);
}
