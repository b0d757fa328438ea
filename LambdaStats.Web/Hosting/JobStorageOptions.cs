namespace LambdaStats.Web.Hosting;

/// <summary>Where Hangfire keeps its jobs, bound from the <c>Jobs</c> section.</summary>
public sealed class JobStorageOptions
{
    public const string SectionName = "Jobs";

    /// <summary>
    /// <see cref="JobStorageKind.InMemory"/> (the default) loses enqueued and running jobs when
    /// the process stops; <see cref="JobStorageKind.Redis"/> keeps them for the next start.
    /// </summary>
    public JobStorageKind Storage { get; set; } = JobStorageKind.InMemory;

    public RedisJobStorageOptions Redis { get; set; } = new();

    /// <summary>Reads the section and checks it, since the storage is chosen while the host is composed, before options validation runs.</summary>
    /// <exception cref="InvalidOperationException">A value is missing or invalid; the message names the setting.</exception>
    public static JobStorageOptions Read(IConfiguration configuration)
    {
        var options = configuration.GetSection(SectionName).Get<JobStorageOptions>() ?? new JobStorageOptions();
        if (!Enum.IsDefined(options.Storage))
        {
            throw new InvalidOperationException($"Jobs:Storage must be InMemory or Redis, not '{options.Storage}'.");
        }

        if (options.Storage == JobStorageKind.Redis)
        {
            if (string.IsNullOrWhiteSpace(options.Redis.Configuration))
            {
                throw new InvalidOperationException("Jobs:Redis:Configuration is empty; set the StackExchange.Redis configuration string, for example 127.0.0.1:6379.");
            }

            if (string.IsNullOrWhiteSpace(options.Redis.Prefix))
            {
                throw new InvalidOperationException("Jobs:Redis:Prefix is empty; set the prefix of the Redis keys of the jobs, for example lambdastats:hangfire:.");
            }
        }

        return options;
    }
}

public enum JobStorageKind
{
    InMemory,
    Redis,
}

public sealed class RedisJobStorageOptions
{
    /// <summary>
    /// A StackExchange.Redis configuration string: <c>host:port</c> and options such as
    /// <c>password=...</c>. It can contain a password, so it is never logged. Default 127.0.0.1:6379.
    /// </summary>
    public string Configuration { get; set; } = "127.0.0.1:6379";

    /// <summary>Prefix of every Redis key of the jobs, so that several deployments can share one server. Default <c>lambdastats:hangfire:</c>.</summary>
    public string Prefix { get; set; } = "lambdastats:hangfire:";
}
