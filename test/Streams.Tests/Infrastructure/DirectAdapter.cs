using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.GrainInterfaces.Streams;
using OrleansControl.Streams.Kafka;
using OrleansControl.Streams.Kafka.Wire;

namespace OrleansControl.Streams.Tests.Infrastructure;

/// <summary>The provider's adapter and receivers without a silo, on a topic of their own: for producer and offset rules.</summary>
public sealed class DirectAdapter : IDisposable
{
    public const string Namespace = "direct";

    private DirectAdapter(KafkaStreamOptions options, string topic, ListLoggerFactory logs)
    {
        Options = options;
        Topic = topic;
        Logs = logs;
        Mapper = new KafkaQueueMapper(options);
        Adapter = new KafkaQueueAdapter("direct", options, Mapper,
            new CloudEventCodec(EventCatalog.Controller, CloudEventCodec.SourceFor("test", "direct")), options.GroupId!, logs, TimeProvider.System);
    }

    public KafkaStreamOptions Options { get; }

    public string Topic { get; }

    public ListLoggerFactory Logs { get; }

    public KafkaQueueMapper Mapper { get; }

    public KafkaQueueAdapter Adapter { get; }

    public static DirectAdapter Create(KafkaBrokerFixture kafka, int partitions = 1, int bufferCapacity = 100_000, string? groupId = null,
        string? topic = null)
    {
        topic ??= kafka.NewTopic("direct", partitions);
        var options = new KafkaStreamOptions
        {
            BootstrapServers = kafka.BootstrapServers,
            Topics = new() { [Namespace] = topic },
            Partitions = new() { [topic] = partitions, [KafkaStreamOptions.DefaultTopic] = 3 },
            GroupId = groupId ?? $"direct-{Guid.NewGuid():N}",
            BufferCapacity = bufferCapacity,
            PublishAckTimeout = TimeSpan.FromMilliseconds(300),
            AllStreamKey = null,
        };
        return new DirectAdapter(options, topic, new ListLoggerFactory());
    }

    public static StreamId Stream(string key) => StreamId.Create(Namespace, key);

    public static ConnectionStatusChanged Event(string connectionId, long version) => new(connectionId, "bank-1", "s-a1",
        ConnectionStatus.Active, ConnectionStatus.Active, version, 100, null, "test", DateTimeOffset.UtcNow);

    public Task PublishAsync(string key, long version) =>
        Adapter.QueueMessageBatchAsync(Stream(key), [Event(key, version)], null, null);

    public int Count(LogLevel level, int eventId) => Logs.Lines.Count(l => l.Level == level && l.EventId == eventId);

    public void Dispose() => Adapter.Dispose();
}
