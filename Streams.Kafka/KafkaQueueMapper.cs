using System.Text;
using Orleans.Runtime;
using Orleans.Streams;

namespace OrleansControl.Streams.Kafka;

/// <summary>
/// One stable mapping, used for writing and for reading: stream → topic (by namespace) → partition (Kafka's own
/// murmur2 of the message key, as the Java client's default partitioner, so a non-.NET producer using the same key
/// lands on the same partition) → Orleans queue (one per topic partition). The queues are spread evenly over the
/// consistent ring, so Orleans' balancer gives each silo a share of the partitions.
/// </summary>
public sealed class KafkaQueueMapper : IConsistentRingStreamQueueMapper
{
    private readonly KafkaStreamOptions options;
    private readonly QueueId[] queues;
    private readonly Dictionary<QueueId, (string Topic, int Partition)> partitions = [];
    private readonly Dictionary<(string Topic, int Partition), QueueId> byPartition = [];

    public KafkaQueueMapper(KafkaStreamOptions options)
    {
        this.options = options;
        var all = options.Topics.Values.Append(KafkaStreamOptions.DefaultTopic).Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .SelectMany(topic => Enumerable.Range(0, options.Partitions[topic]).Select(p => (topic, p)))
            .ToList();
        queues = new QueueId[all.Count];
        var step = uint.MaxValue / (uint)all.Count;
        for (var i = 0; i < all.Count; i++)
        {
            var queue = QueueId.GetQueueId(all[i].topic, (uint)all[i].p, (uint)i * step);
            queues[i] = queue;
            partitions[queue] = all[i];
            byPartition[all[i]] = queue;
        }
    }

    /// <summary>The Kafka message key of a stream: <c>{namespace}/{key}</c>.</summary>
    public static string KeyOf(StreamId stream) => $"{stream.GetNamespace()}/{stream.GetKeyAsString()}";

    /// <summary>The stream a Kafka key names (the inverse of <see cref="KeyOf"/>).</summary>
    public static StreamId? StreamOf(string? key)
    {
        var slash = key?.IndexOf('/', StringComparison.Ordinal) ?? -1;
        return slash <= 0 ? null : StreamId.Create(key![..slash], key[(slash + 1)..]);
    }

    public (string Topic, int Partition) PartitionFor(StreamId stream)
    {
        var topic = options.TopicFor(stream.GetNamespace() ?? "");
        var hash = Murmur2(Encoding.UTF8.GetBytes(KeyOf(stream))) & 0x7fffffff;
        return (topic, (int)(hash % (uint)options.Partitions[topic]));
    }

    public (string Topic, int Partition) PartitionOf(QueueId queue) => partitions[queue];

    public QueueId QueueOf(string topic, int partition) => byPartition[(topic, partition)];

    public QueueId GetQueueForStream(StreamId streamId)
    {
        var (topic, partition) = PartitionFor(streamId);
        return byPartition[(topic, partition)];
    }

    public IEnumerable<QueueId> GetAllQueues() => queues;

    public IEnumerable<QueueId> GetQueuesForRange(IRingRange range) =>
        queues.Where(q => range.InRange(q.GetUniformHashCode()));

    /// <summary>Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2), seed 0x9747b28c.</summary>
    internal static uint Murmur2(ReadOnlySpan<byte> data)
    {
        const uint m = 0x5bd1e995;
        const int r = 24;
        var length = data.Length;
        var h = 0x9747b28c ^ (uint)length;
        var length4 = length / 4;
        for (var i = 0; i < length4; i++)
        {
            var i4 = i * 4;
            var k = data[i4] | ((uint)data[i4 + 1] << 8) | ((uint)data[i4 + 2] << 16) | ((uint)data[i4 + 3] << 24);
            k *= m;
            k ^= k >> r;
            k *= m;
            h *= m;
            h ^= k;
        }
        var tail = length & ~3;
        switch (length % 4)
        {
            case 3:
                h ^= (uint)data[tail + 2] << 16;
                goto case 2;
            case 2:
                h ^= (uint)data[tail + 1] << 8;
                goto case 1;
            case 1:
                h ^= data[tail];
                h *= m;
                break;
        }
        h ^= h >> 13;
        h *= m;
        h ^= h >> 15;
        return h;
    }
}
