namespace LambdaStats.Benchmarks.Support;

/// <summary>Reads the resident set size of a process from <c>/proc/PID/status</c> (Linux only).</summary>
internal static class ProcessMemory
{
    /// <summary>Returns VmRSS in bytes, or null when the process has exited.</summary>
    public static long? ReadRss(int processId) => Read(processId, "VmRSS:");

    /// <summary>
    /// Returns RssFile in bytes: the resident pages of mapped files, which the kernel can drop
    /// and read again, as opposed to the process's own (anonymous) memory. Null when the process
    /// has exited.
    /// </summary>
    public static long? ReadRssFile(int processId) => Read(processId, "RssFile:");

    private static long? Read(int processId, string field)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{processId}/status"))
            {
                if (line.StartsWith(field, StringComparison.Ordinal))
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
