using Confluent.Kafka;
using OrleansControl.Streams.Kafka;
using OrleansControl.Streams.Tests.Infrastructure;

namespace OrleansControl.Streams.Tests;

[Collection(KafkaClusterCollection.Name)]
public sealed class MappingTests(KafkaClusterFixture fixture)
{
    [Fact]
    public async Task A_stream_lands_on_the_partition_Kafkas_murmur2_partitioner_picks_for_its_key()
    {
        var topic = fixture.Kafka.NewTopic("murmur", 7);
        var options = new KafkaStreamOptions
        {
            BootstrapServers = fixture.Kafka.BootstrapServers,
            Topics = new() { ["ns"] = topic },
            Partitions = new() { [topic] = 7, [KafkaStreamOptions.DefaultTopic] = 3 },
        };
        var mapper = new KafkaQueueMapper(options);
        // librdkafka's murmur2 partitioner is the Java client's default: a non-.NET producer agrees with us.
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig
        {
            BootstrapServers = fixture.Kafka.BootstrapServers,
            Partitioner = Partitioner.Murmur2,
        }).Build();
        for (var i = 0; i < 40; i++)
        {
            var stream = Orleans.Runtime.StreamId.Create("ns", $"conn-{i}-{Guid.NewGuid():N}");
            var sent = await producer.ProduceAsync(topic, new Message<string, string> { Key = KafkaQueueMapper.KeyOf(stream), Value = "x" });
            var (mappedTopic, partition) = mapper.PartitionFor(stream);
            Assert.Equal((topic, sent.Partition.Value), (mappedTopic, partition));
            Assert.Equal(mapper.QueueOf(topic, partition), mapper.GetQueueForStream(stream));
        }
    }

    [Fact]
    public void Every_topic_partition_is_one_queue_and_the_ring_covers_them_all()
    {
        var options = fixture.StreamOptions();
        var mapper = new KafkaQueueMapper(options);
        var queues = mapper.GetAllQueues().ToList();
        Assert.Equal(options.Partitions.Values.Sum(), queues.Count);
        Assert.Equal(queues.Count, queues.Select(mapper.PartitionOf).Distinct().Count());
        Assert.Equal(queues.Count, queues.Select(q => q.GetUniformHashCode()).Distinct().Count());
        Assert.Equal("health-reports", mapper.PartitionFor(GrainInterfaces.Streams.ControllerStreams.ServerHealthOf("pool-1")).Topic);
        Assert.Equal("failover-commands", mapper.PartitionFor(GrainInterfaces.Streams.ControllerStreams.FailoverCommandsFor("bank-1")).Topic);
        Assert.Equal("controller-events", mapper.PartitionFor(Orleans.Runtime.StreamId.Create("something-else", "x")).Topic);
    }
}
