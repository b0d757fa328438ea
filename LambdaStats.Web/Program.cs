using LambdaStats.Web.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddLambdaStats();

var app = builder.Build();
app.MapLambdaStats();
app.Run();

/// <summary>Entry point; public so that integration tests can host it with WebApplicationFactory.</summary>
public partial class Program;
