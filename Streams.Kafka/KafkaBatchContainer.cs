using Orleans.Runtime;
using Orleans.Streams;

namespace OrleansControl.Streams.Kafka;

/// <summary>One event read from Kafka, for one stream. Serialized when Orleans delivers it to a subscriber elsewhere.</summary>
[GenerateSerializer, Immutable, Alias("oc.KafkaBatchContainer")]
public sealed class KafkaBatchContainer(StreamId streamId, KafkaEventToken token, object data) : IBatchContainer
{
    [Id(0)] public StreamId StreamId { get; } = streamId;

    [Id(1)] public KafkaEventToken Token { get; } = token;

    [Id(2)] public object Data { get; } = data;

    public StreamSequenceToken SequenceToken => Token;

    public IEnumerable<Tuple<T, StreamSequenceToken>> GetEvents<T>() =>
        Data is T typed ? [Tuple.Create(typed, (StreamSequenceToken)Token)] : [];

    public bool ImportRequestContext() => false;

    public override string ToString() => $"{StreamId} {Token}";
}
