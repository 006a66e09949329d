namespace OrleansControl.Streams.Kafka;

/// <summary>A Kafka stream publish that did not happen. Never carries event data, only where and why.</summary>
[GenerateSerializer, Alias("oc.KafkaStreamException")]
public class KafkaStreamException : Exception
{
    public KafkaStreamException() { }

    public KafkaStreamException(string message) : base(message) { }

    public KafkaStreamException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>
/// The producer's buffer is full: the brokers have been unreachable (or slow) for as many events as
/// <see cref="KafkaStreamOptions.BufferCapacity"/>. The event was not taken; the caller decides (fail its transition, retry).
/// </summary>
[GenerateSerializer, Alias("oc.KafkaBufferFullException")]
public sealed class KafkaBufferFullException : KafkaStreamException
{
    public KafkaBufferFullException() { }

    public KafkaBufferFullException(string message) : base(message) { }

    public KafkaBufferFullException(string message, Exception inner) : base(message, inner) { }

    public KafkaBufferFullException(string topic, int capacity, Exception inner)
        : base($"Kafka producer buffer full ({capacity} events held, brokers not acknowledging); event for topic {topic} not taken", inner)
    {
        Topic = topic;
        Capacity = capacity;
    }

    [Id(0)] public string Topic { get; init; } = "";

    [Id(1)] public int Capacity { get; init; }
}
