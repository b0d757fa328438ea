using Microsoft.Extensions.Logging;
using NSubstitute;

namespace LambdaStats.Tests.Support;

/// <summary>Reads the log lines that a substituted <see cref="ILogger"/> received.</summary>
internal static class LoggedLines
{
    /// <summary>Returns a substituted logger that has every level enabled, so that it receives every line.</summary>
    public static ILogger NewLogger()
    {
        var logger = Substitute.For<ILogger>();
        logger.IsEnabled(Arg.Any<LogLevel>()).Returns(true);
        return logger;
    }

    /// <summary>Returns the formatted message of every line logged with <paramref name="eventId"/>, in order.</summary>
    public static List<string> WithEventId(ILogger logger, int eventId) =>
        logger.ReceivedCalls()
            .Where(call => call.GetMethodInfo().Name == nameof(ILogger.Log) && call.GetArguments()[1] is EventId id && id.Id == eventId)
            .Select(call => call.GetArguments()[2]?.ToString() ?? string.Empty)
            .ToList();
}
