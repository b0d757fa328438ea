using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace LambdaStats.Benchmarks.Support;

/// <summary>
/// The service run as its own process, <c>dotnet LambdaStats.Web.dll --urls http://127.0.0.1:PORT</c>,
/// on a fresh data directory with the shipped configuration.
/// </summary>
internal sealed class ServiceProcess : IAsyncDisposable
{
    /// <summary>Format of the UTC time that starts each line of <c>service.log</c>.</summary>
    public const string LogTimeFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    private readonly Process process;
    private readonly StreamWriter log;

    private ServiceProcess(Process process, StreamWriter log, Uri baseAddress, string dataDirectory)
    {
        this.process = process;
        this.log = log;
        BaseAddress = baseAddress;
        DataDirectory = dataDirectory;
    }

    public Uri BaseAddress { get; }

    public string DataDirectory { get; }

    public int ProcessId => process.Id;

    /// <summary>The service's standard output and error, each line prefixed with its UTC arrival time.</summary>
    public string LogPath => Path.Combine(Path.GetDirectoryName(DataDirectory)!, "service.log");

    /// <summary>Starts the service on a free loopback port and waits until <c>/health/ready</c> returns 200.</summary>
    /// <param name="settings">Settings passed as environment variables (<c>Bus__Transport</c>), beside the data directory.</param>
    public static async Task<ServiceProcess> StartAsync(string webDll, string workDirectory, TimeSpan readyTimeout, IReadOnlyDictionary<string, string>? settings = null)
    {
        var port = FindFreePort();
        var baseAddress = new Uri($"http://127.0.0.1:{port}");
        var dataDirectory = Path.Combine(workDirectory, "data");
        Directory.CreateDirectory(dataDirectory);

        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(webDll);
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add(baseAddress.ToString().TrimEnd('/'));
        start.Environment["Storage__DataDirectory"] = dataDirectory;
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (name, value) in settings ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        var log = new StreamWriter(Path.Combine(workDirectory, "service.log")) { AutoFlush = true };
        var process = Process.Start(start) ?? throw new InvalidOperationException($"Failed to start 'dotnet {webDll}'.");
        process.OutputDataReceived += (_, line) => WriteLine(log, line.Data);
        process.ErrorDataReceived += (_, line) => WriteLine(log, line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var service = new ServiceProcess(process, log, baseAddress, dataDirectory);
        await service.WaitUntilReadyAsync(readyTimeout);
        return service;
    }

    public long? ReadRss() => ProcessMemory.ReadRss(process.Id);

    /// <summary>Sends SIGTERM, so the host shuts down gracefully, and kills the process if it has not exited after 30 s.</summary>
    public async Task StopAsync()
    {
        if (process.HasExited)
        {
            return;
        }

        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine($"The service (process {process.Id}) did not stop within 30 s of SIGTERM; killing it.");
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        process.Dispose();
        await log.DisposeAsync();
    }

    private static void WriteLine(StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }

        // The service's console log has no time, and the soak report needs to place the batch
        // runs on its memory samples, so each line gets the UTC time at which it arrived.
        var received = DateTimeOffset.UtcNow.ToString(LogTimeFormat, System.Globalization.CultureInfo.InvariantCulture);
        lock (log)
        {
            log.Write(received);
            log.Write(' ');
            log.WriteLine(line);
        }
    }

    private async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        using var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The service exited with code {process.ExitCode} before it was ready; see service.log in {Path.GetDirectoryName(DataDirectory)}.");
            }

            try
            {
                using var response = await client.GetAsync("/health/ready");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(200);
        }

        await StopAsync();
        throw new TimeoutException($"The service was not ready within {timeout.TotalSeconds} s; see service.log in {Path.GetDirectoryName(DataDirectory)}.");
    }

    private static int FindFreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
