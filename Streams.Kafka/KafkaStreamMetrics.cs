using System.Diagnostics.Metrics;

namespace OrleansControl.Streams.Kafka;

/// <summary>Meter <see cref="MeterName"/>: what the bus publishes, holds, refuses and reads.</summary>
public sealed class KafkaStreamMetrics
{
    public const string MeterName = "OrleansControl.Streams.Kafka";
    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> PublishedCounter = Meter.CreateCounter<long>("orleanscontrol.kafka.published", "{event}",
        "Events acknowledged by the brokers (acks=all)");
    private static readonly Counter<long> RefusedCounter = Meter.CreateCounter<long>("orleanscontrol.kafka.buffer_full", "{event}",
        "Publishes refused because the producer buffer was full");
    private static readonly Counter<long> LostCounter = Meter.CreateCounter<long>("orleanscontrol.kafka.delivery_failed", "{event}",
        "Events the brokers never took after they were held (message timeout or fatal producer error)");
    private static readonly Counter<long> ReceivedCounter = Meter.CreateCounter<long>("orleanscontrol.kafka.received", "{event}",
        "Events read and handed to Orleans");
    private static readonly Counter<long> DuplicatesCounter = Meter.CreateCounter<long>("orleanscontrol.kafka.duplicates_dropped", "{event}",
        "Events read again with an id already delivered by the same receiver");

    private long held;

    public KafkaStreamMetrics(string provider)
    {
        Meter.CreateObservableGauge("orleanscontrol.kafka.held", () => new Measurement<long>(Interlocked.Read(ref held),
            new KeyValuePair<string, object?>("provider", provider)), "{event}", "Events produced but not yet acknowledged");
    }

    public long Held => Interlocked.Read(ref held);

    public void Produced() => Interlocked.Increment(ref held);

    public void Acknowledged(string topic)
    {
        Interlocked.Decrement(ref held);
        PublishedCounter.Add(1, new KeyValuePair<string, object?>("topic", topic));
    }

    public void Failed(string topic)
    {
        Interlocked.Decrement(ref held);
        LostCounter.Add(1, new KeyValuePair<string, object?>("topic", topic));
    }

    public static void Refused(string topic) => RefusedCounter.Add(1, new KeyValuePair<string, object?>("topic", topic));

    public static void Received(string topic) => ReceivedCounter.Add(1, new KeyValuePair<string, object?>("topic", topic));

    public static void Duplicate(string topic) => DuplicatesCounter.Add(1, new KeyValuePair<string, object?>("topic", topic));
}
