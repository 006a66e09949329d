using Microsoft.Extensions.Logging;

namespace OrleansControl.Streams.Kafka;

internal static partial class KafkaStreamLog
{
    [LoggerMessage(1, LogLevel.Warning,
        "Kafka brokers unreachable ({Reason}): holding events in order (buffer {Capacity}); they are delivered when a broker returns")]
    public static partial void OutageStarted(ILogger logger, string reason, int capacity);

    [LoggerMessage(2, LogLevel.Information, "Kafka brokers reachable again after {Seconds:F1} s; the events held meanwhile are delivered")]
    public static partial void OutageEnded(ILogger logger, double seconds);

    [LoggerMessage(3, LogLevel.Warning, "Kafka producer buffer full ({Capacity} events held); a publish to {Topic} was refused")]
    public static partial void BufferFull(ILogger logger, string topic, int capacity);

    [LoggerMessage(4, LogLevel.Error, "Kafka did not take an event for {Topic}[{Partition}] after it was held: {Error}")]
    public static partial void DeliveryFailed(ILogger logger, string topic, int partition, string error);

    [LoggerMessage(5, LogLevel.Warning, "Skipped {Topic}[{Partition}]@{Offset}: {Problem}")]
    public static partial void Skipped(ILogger logger, string topic, int partition, long offset, string problem);

    [LoggerMessage(6, LogLevel.Information, "Receiver for {Topic}[{Partition}] started (group {GroupId}, committed offset or {Reset})")]
    public static partial void ReceiverStarted(ILogger logger, string topic, int partition, string groupId, string reset);

    [LoggerMessage(7, LogLevel.Information, "Receiver for {Topic}[{Partition}] stopped at committed offset {Offset}")]
    public static partial void ReceiverStopped(ILogger logger, string topic, int partition, long? offset);

    [LoggerMessage(8, LogLevel.Warning, "Kafka client error on {Client}: {Reason}")]
    public static partial void ClientError(ILogger logger, string client, string reason);

    [LoggerMessage(9, LogLevel.Warning, "Delivery of {Token} on {StreamId} given up by Orleans; its offset counts as finished")]
    public static partial void DeliveryGivenUp(ILogger logger, string token, string streamId);

    [LoggerMessage(10, LogLevel.Warning, "Commit of {Topic}[{Partition}] at {Offset} failed: {Reason}")]
    public static partial void CommitFailed(ILogger logger, string topic, int partition, long offset, string reason);
}
