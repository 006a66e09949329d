using Orleans.Streams;

namespace OrleansControl.Streams.Kafka;

/// <summary>
/// Where an event sits in its partition (offset; index 0 on its own stream, 1 on the namespace's all-stream) and its
/// CloudEvents id, which subscribers use to drop redeliveries (<see cref="DeduplicatingObserver{T}"/>).
/// </summary>
[GenerateSerializer, Immutable, Alias("oc.KafkaEventToken")]
public sealed class KafkaEventToken : StreamSequenceToken
{
    public KafkaEventToken(long offset, int index, string eventId)
    {
        SequenceNumber = offset;
        EventIndex = index;
        EventId = eventId;
    }

    [Id(0)] public override long SequenceNumber { get; protected set; }

    [Id(1)] public override int EventIndex { get; protected set; }

    [Id(2)] public string EventId { get; private set; }

    public override bool Equals(StreamSequenceToken? other) =>
        other is not null && other.SequenceNumber == SequenceNumber && other.EventIndex == EventIndex;

    public override int CompareTo(StreamSequenceToken? other)
    {
        if (other is null)
            return 1;
        var bySequence = SequenceNumber.CompareTo(other.SequenceNumber);
        return bySequence != 0 ? bySequence : EventIndex.CompareTo(other.EventIndex);
    }

    public override bool Equals(object? obj) => obj is StreamSequenceToken other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(SequenceNumber, EventIndex);

    public override string ToString() => $"[{SequenceNumber}.{EventIndex} {EventId}]";
}
