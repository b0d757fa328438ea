namespace LambdaStats.Benchmarks.Support;

/// <summary>Reads the resident set size of a process from <c>/proc/PID/status</c> (Linux only).</summary>
internal static class ProcessMemory
{
    /// <summary>Returns VmRSS in bytes, or null when the process has exited.</summary>
    public static long? ReadRss(int processId)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{processId}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    var kilobytes = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
                    return kilobytes * 1024;
                }
            }
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        return null;
    }
}
