namespace LambdaStats.Benchmarks.Support;

/// <summary>Locates build outputs of the repository that this harness was built from.</summary>
internal static class RepositoryPaths
{
    /// <summary>
    /// Returns <paramref name="explicitPath"/> when set, otherwise LambdaStats.Web.dll built in the
    /// same configuration as this harness (the project reference builds it first).
    /// </summary>
    public static string FindWebDll(string? explicitPath)
    {
        if (explicitPath is not null)
        {
            return File.Exists(explicitPath)
                ? Path.GetFullPath(explicitPath)
                : throw new FileNotFoundException($"--web-dll '{explicitPath}' does not exist.");
        }

        // The harness runs from LambdaStats.Benchmarks/bin/CONFIGURATION/TFM/.
        var output = new DirectoryInfo(AppContext.BaseDirectory);
        var framework = output.Name;
        var configuration = output.Parent?.Name;
        var root = output.Parent?.Parent?.Parent?.Parent?.FullName;
        if (configuration is null || root is null)
        {
            throw new FileNotFoundException(
                $"The harness runs from '{output.FullName}', outside LambdaStats.Benchmarks/bin/CONFIGURATION/TFM/, so LambdaStats.Web.dll cannot be located. Pass --web-dll PATH.");
        }

        var candidate = Path.Combine(root, "LambdaStats.Web", "bin", configuration, framework, "LambdaStats.Web.dll");
        return File.Exists(candidate)
            ? candidate
            : throw new FileNotFoundException($"LambdaStats.Web.dll not found at '{candidate}'. Build the solution in {configuration} first, or pass --web-dll PATH.");
    }

    /// <summary>Returns the path of this harness's own assembly, to start it again as the load generator.</summary>
    public static string BenchmarksDll => Path.Combine(AppContext.BaseDirectory, "LambdaStats.Benchmarks.dll");

    /// <summary>Creates a new directory under the system temporary directory, or under <paramref name="parent"/> when set.</summary>
    public static string CreateWorkDirectory(string prefix, string? parent)
    {
        var root = parent ?? Path.GetTempPath();
        var path = Path.Combine(root, $"{prefix}-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Environment.ProcessId}");
        Directory.CreateDirectory(path);
        return path;
    }
}
