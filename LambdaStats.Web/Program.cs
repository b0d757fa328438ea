using LambdaStats.Web.Cli;
using LambdaStats.Web.Hosting;

if (await CliEntryPoint.TryRunAsync(args, LocalImportServices.Create) is { } exitCode)
{
    return exitCode;
}

var builder = WebApplication.CreateBuilder(args);
builder.AddLambdaStats();

var app = builder.Build();
app.MapLambdaStats();
return await ServiceRunner.RunAsync(app, Console.Error);

/// <summary>Entry point; public so that integration tests can host it with WebApplicationFactory.</summary>
public partial class Program;
