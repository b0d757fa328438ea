namespace LambdaStats.Modules.View.Cache;

/// <summary>Settings of the in-memory cache of view buckets, section <c>View:Cache</c>.</summary>
public sealed class ViewCacheOptions
{
    public const string SectionName = "View:Cache";

    /// <summary>
    /// Managed memory the cached buckets may hold, in MiB, as estimated by the cache; the least
    /// recently used buckets go first beyond it. 0 turns the cache off.
    /// </summary>
    public int MaxMegabytes { get; set; } = 256;
}
