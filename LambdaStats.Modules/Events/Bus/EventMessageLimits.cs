namespace LambdaStats.Modules.Events.Bus;

/// <summary>Limits of the bus messages that carry events.</summary>
internal static class EventMessageLimits
{
    /// <summary>
    /// Largest message body, in bytes, that the consumers store: 10 MiB, the limit of a
    /// <c>POST /api/events</c> body, so that an event rejected over HTTP for its size is rejected
    /// on the bus as well.
    /// </summary>
    public const long MaxBodyBytes = 10 * 1024 * 1024;

    /// <summary>
    /// Largest message that the RabbitMQ client receives: 512 MiB, the most that a RabbitMQ broker
    /// can be set to accept (<c>max_message_size</c>). The client's own default, 64 MiB, is below
    /// the broker's default of 128 MiB, and a larger message then closes the connection at each
    /// delivery, which stops the queue. With this limit, such a message reaches the consumer,
    /// which moves it to the error queue.
    /// </summary>
    public const uint MaxReceivedBytes = 512 * 1024 * 1024;

    /// <exception cref="EventRejectedException">The body is larger than <see cref="MaxBodyBytes"/>.</exception>
    internal static void CheckBodySize(long bodyBytes)
    {
        if (bodyBytes > MaxBodyBytes)
        {
            throw new EventRejectedException(null, $"the message body has {bodyBytes:N0} bytes, more than the {MaxBodyBytes:N0} bytes that an event may have, as over HTTP");
        }
    }
}
