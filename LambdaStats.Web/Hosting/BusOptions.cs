namespace LambdaStats.Web.Hosting;

/// <summary>The message bus that delivers <c>RecordAudienceEvent</c> messages, bound from the <c>Bus</c> section.</summary>
public sealed class BusOptions
{
    public const string SectionName = "Bus";

    /// <summary><see cref="BusTransport.InMemory"/> (the default) or <see cref="BusTransport.RabbitMq"/>.</summary>
    public BusTransport Transport { get; set; } = BusTransport.InMemory;

    public RabbitMqOptions RabbitMq { get; set; } = new();

    /// <summary>Reads the section and checks it, since the transport is chosen while the host is composed, before options validation runs.</summary>
    /// <exception cref="InvalidOperationException">A value is missing or out of range; the message names the setting.</exception>
    public static BusOptions Read(IConfiguration configuration)
    {
        var options = configuration.GetSection(SectionName).Get<BusOptions>() ?? new BusOptions();
        if (!Enum.IsDefined(options.Transport))
        {
            throw new InvalidOperationException($"Bus:Transport must be InMemory or RabbitMq, not '{options.Transport}'.");
        }

        if (options.Transport == BusTransport.RabbitMq)
        {
            options.RabbitMq.Check();
        }

        return options;
    }
}

public enum BusTransport
{
    InMemory,
    RabbitMq,
}

/// <summary>Connection to a RabbitMQ broker. The defaults are the broker's own: localhost, port 5672, virtual host "/", user guest.</summary>
public sealed class RabbitMqOptions
{
    public string Host { get; set; } = "localhost";

    public int Port { get; set; } = 5672;

    public string VirtualHost { get; set; } = "/";

    public string Username { get; set; } = "guest";

    /// <summary>Never logged. Set it from an environment variable (<c>Bus__RabbitMq__Password</c>) rather than a file.</summary>
    public string Password { get; set; } = "guest";

    /// <summary>Messages the broker sends ahead to the consumer; the consumer handles up to this many at once. Default 256.</summary>
    public int PrefetchCount { get; set; } = 256;

    /// <summary>
    /// Text put before the names of the service's queues (<c>record-audience-event</c> and
    /// <c>audience-event-json</c>), so that several deployments can share a virtual host. Default empty.
    /// </summary>
    public string QueuePrefix { get; set; } = string.Empty;

    // RabbitMQ limits a queue name to 255 bytes, and the longest name after the prefix is 25.
    private const int MaxQueuePrefixLength = 200;

    private static bool IsQueueNameCharacter(char character) =>
        char.IsAsciiLetterOrDigit(character) || character is '-' or '_' or '.' or ':';

    internal void Check()
    {
        if (string.IsNullOrWhiteSpace(Host))
        {
            throw new InvalidOperationException("Bus:RabbitMq:Host is empty; set the broker's host name or address.");
        }

        if (Port is < 1 or > 65535)
        {
            throw new InvalidOperationException($"Bus:RabbitMq:Port must be between 1 and 65535, not {Port}.");
        }

        if (string.IsNullOrEmpty(VirtualHost))
        {
            throw new InvalidOperationException("Bus:RabbitMq:VirtualHost is empty; the broker's default is \"/\".");
        }

        if (QueuePrefix.Length > MaxQueuePrefixLength || !QueuePrefix.All(IsQueueNameCharacter))
        {
            throw new InvalidOperationException($"Bus:RabbitMq:QueuePrefix '{QueuePrefix}' is invalid: use at most {MaxQueuePrefixLength} ASCII letters, digits, '-', '_', '.' or ':'.");
        }

        if (PrefetchCount is < 1 or > ushort.MaxValue)
        {
            throw new InvalidOperationException($"Bus:RabbitMq:PrefetchCount must be between 1 and {ushort.MaxValue}, not {PrefetchCount}.");
        }
    }
}
