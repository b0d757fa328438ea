namespace LambdaStats.Benchmarks.Support;

/// <summary>The facts every recorded figure needs beside it: cores, CPU model, memory and the date.</summary>
internal static class MachineInfo
{
    public static void Print(string command)
    {
        Console.WriteLine($"# date (UTC): {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm:ss}");
        Console.WriteLine($"# cores: {Environment.ProcessorCount}, CPU: {ReadCpuModel()}, memory: {ReadMemory()}");
        Console.WriteLine($"# runtime: .NET {Environment.Version}, server GC: {System.Runtime.GCSettings.IsServerGC}");
        Console.WriteLine($"# harness: {command}");
        PrintLoadAverage("start");
    }

    /// <summary>
    /// Prints /proc/loadavg. Other processes on the machine (builds, test suites) slow every
    /// figure, so each run records the load it ran under.
    /// </summary>
    public static void PrintLoadAverage(string moment)
    {
        const string path = "/proc/loadavg";
        if (File.Exists(path))
        {
            Console.WriteLine($"# load average at {moment} (1, 5, 15 min): {string.Join(' ', File.ReadAllText(path).Split(' ').Take(3))}");
        }
    }

    private static string ReadCpuModel()
    {
        const string path = "/proc/cpuinfo";
        if (!File.Exists(path))
        {
            return "unknown";
        }

        var line = File.ReadLines(path).FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
        return line is null ? "unknown" : line[(line.IndexOf(':') + 1)..].Trim();
    }

    private static string ReadMemory()
    {
        const string path = "/proc/meminfo";
        if (!File.Exists(path))
        {
            return "unknown";
        }

        var line = File.ReadLines(path).FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
        if (line is null)
        {
            return "unknown";
        }

        var kilobytes = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
        return FormattableString.Invariant($"{kilobytes / 1024.0 / 1024.0:F1} GiB");
    }
}
