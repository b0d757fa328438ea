using System.Diagnostics;
using System.Text.Json;

namespace LambdaStats.Benchmarks.Support;

/// <summary>Starts <c>loadgen</c> as a separate process of this harness and reads its summary line.</summary>
internal sealed class LoadGeneratorProcess
{
    private readonly Process process;
    private readonly Task<string> output;

    private LoadGeneratorProcess(Process process)
    {
        this.process = process;
        output = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync().ContinueWith(t => { if (t.Result.Length > 0) Console.Error.Write(t.Result); }, TaskScheduler.Default);
    }

    public int ProcessId => process.Id;

    public static LoadGeneratorProcess Start(Uri url, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(RepositoryPaths.BenchmarksDll);
        start.ArgumentList.Add("loadgen");
        start.ArgumentList.Add("--url");
        start.ArgumentList.Add(url.ToString());
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Console.WriteLine($"# load generator: dotnet {string.Join(' ', start.ArgumentList)}");
        return new LoadGeneratorProcess(Process.Start(start) ?? throw new InvalidOperationException("Failed to start the load generator."));
    }

    public bool HasExited => process.HasExited;

    /// <summary>Kills the load generator; <see cref="WaitAsync"/> then fails, since it prints no summary.</summary>
    public async Task KillAsync()
    {
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
    }

    public async Task<LoadSummary> WaitAsync()
    {
        await process.WaitForExitAsync();
        var text = await output;
        var line = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault()
            ?? throw new InvalidOperationException($"The load generator exited with code {process.ExitCode} and printed nothing.");
        var summary = JsonSerializer.Deserialize<LoadSummary>(line, new JsonSerializerOptions(JsonSerializerDefaults.Web))
            ?? throw new InvalidOperationException($"The load generator printed an invalid summary: {line}");
        process.Dispose();
        return summary;
    }
}
