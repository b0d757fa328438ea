using LambdaStats.Modules.Batch;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NSubstitute;

namespace LambdaStats.Tests.Support;

/// <summary>Service registrations that replace the heap compactor, and send every log line to one logger, for a <see cref="LambdaCoreHarness"/>.</summary>
internal static class CompactorServices
{
    public static Action<IServiceCollection> With(IHeapCompactor compactor, ILogger logger)
    {
        var provider = Substitute.For<ILoggerProvider>();
        provider.CreateLogger(Arg.Any<string>()).Returns(logger);
        return services =>
        {
            services.AddSingleton(compactor);
            services.AddSingleton(provider);
        };
    }
}
