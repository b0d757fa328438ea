using LambdaStats.Web.Cli;
using LambdaStats.Web.Hosting;

if (await CliEntryPoint.TryRunAsync(args, LocalImportServices.Create) is { } exitCode)
{
    return exitCode;
}

if (ServiceRunner.TryBuild(args, Console.Error) is not { } app)
{
    return ServiceRunner.FailureExitCode;
}

return await ServiceRunner.RunAsync(app, Console.Error);

/// <summary>Entry point; public so that integration tests can host it with WebApplicationFactory.</summary>
public partial class Program;
