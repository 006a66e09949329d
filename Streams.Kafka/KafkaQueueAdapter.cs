using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Orleans.Streams;
using OrleansControl.Streams.Kafka.Wire;

namespace OrleansControl.Streams.Kafka;

/// <summary>
/// Writes events to Kafka and creates a receiver per queue. One idempotent producer (acks=all, so a retried send is
/// never duplicated nor reordered) per silo. While no broker acknowledges, librdkafka's producer queue holds events in
/// order per partition — bounded by <see cref="KafkaStreamOptions.BufferCapacity"/>, without a time limit — and sends
/// them when a broker returns. A publish waits for the acknowledgement up to <see cref="KafkaStreamOptions.PublishAckTimeout"/>;
/// past that it returns with its event held, and while the outage lasts publishes do not wait. A full buffer refuses the publish with <see cref="KafkaBufferFullException"/>.
/// </summary>
public sealed class KafkaQueueAdapter : IQueueAdapter, IDisposable
{
    private static readonly byte[] ContentTypeHeader = Encoding.UTF8.GetBytes(CloudEventCodec.ContentType);

    private readonly KafkaStreamOptions options;
    private readonly KafkaQueueMapper mapper;
    private readonly CloudEventCodec codec;
    private readonly ILoggerFactory loggerFactory;
    private readonly ILogger logger;
    private readonly IProducer<string, byte[]> producer;
    private readonly KafkaStreamMetrics metrics;
    private readonly TimeProvider time;
    private readonly Lock outageGate = new();
    private readonly Dictionary<QueueId, KafkaQueueReceiver> receivers = [];
    private long outageStartedAt;

    public KafkaQueueAdapter(string name, KafkaStreamOptions options, KafkaQueueMapper mapper, CloudEventCodec codec,
        string groupId, ILoggerFactory loggerFactory, TimeProvider time)
    {
        Name = name;
        GroupId = groupId;
        this.options = options;
        this.mapper = mapper;
        this.codec = codec;
        this.loggerFactory = loggerFactory;
        this.time = time;
        logger = loggerFactory.CreateLogger<KafkaQueueAdapter>();
        metrics = new KafkaStreamMetrics(name);
        var config = KafkaClientConfig.Apply(new ProducerConfig
        {
            EnableIdempotence = true,
            Acks = Acks.All,
            // Held until a broker takes them: an outage is bounded by the buffer, not by a clock.
            MessageTimeoutMs = 0,
            QueueBufferingMaxMessages = options.BufferCapacity,
            LingerMs = 2,
        }, options, $"{name}-producer");
        producer = new ProducerBuilder<string, byte[]>(config)
            .SetErrorHandler((_, error) => OnClientError(error))
            .SetLogHandler((_, _) => { }) // librdkafka's own connect/disconnect chatter: the outage is logged once instead.
            .Build();
    }

    public string Name { get; }

    public string GroupId { get; }

    public bool IsRewindable => false;

    public StreamProviderDirection Direction => StreamProviderDirection.ReadWrite;

    public KafkaQueueMapper Mapper => mapper;

    /// <summary>Events produced and not yet acknowledged.</summary>
    public long Held => metrics.Held;

    public async Task QueueMessageBatchAsync<T>(StreamId streamId, IEnumerable<T> events, StreamSequenceToken? token, Dictionary<string, object>? requestContext)
    {
        if (options.AllStreamKey is { } allKey && streamId.GetKeyAsString() == allKey)
            return; // derived on read: every event is also delivered to its namespace's all-stream.

        var (topic, partition) = mapper.PartitionFor(streamId);
        var target = new TopicPartition(topic, new Partition(partition));
        var key = KafkaQueueMapper.KeyOf(streamId);
        var acks = new List<Task>();
        foreach (var data in events)
        {
            if (data is null)
                continue;
            var value = codec.Encode(data, Guid.CreateVersion7().ToString(), time.GetUtcNow());
            var message = new Message<string, byte[]>
            {
                Key = key,
                Value = value.ToArray(),
                Headers = new Headers { { "content-type", ContentTypeHeader } },
            };
            acks.Add(Produce(target, message));
        }
        // During a known outage nothing waits: the event is held and the caller goes on.
        if (acks.Count == 0 || InOutage)
            return;
        var all = Task.WhenAll(acks);
        try
        {
            await all.WaitAsync(options.PublishAckTimeout);
        }
        catch (TimeoutException)
        {
            // Held by the producer, in order; delivered when a broker returns.
            BeginOutage($"no acknowledgement within {options.PublishAckTimeout.TotalSeconds:F0} s");
        }
    }

    private bool InOutage
    {
        get
        {
            lock (outageGate)
                return outageStartedAt != 0;
        }
    }

    private Task Produce(TopicPartition target, Message<string, byte[]> message)
    {
        var acked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            producer.Produce(target, message, report => OnDelivery(report, acked));
            metrics.Produced();
        }
        catch (ProduceException<string, byte[]> ex) when (ex.Error.Code == Confluent.Kafka.ErrorCode.Local_QueueFull)
        {
            KafkaStreamMetrics.Refused(target.Topic);
            KafkaStreamLog.BufferFull(logger, target.Topic, options.BufferCapacity);
            throw new KafkaBufferFullException(target.Topic, options.BufferCapacity, ex);
        }
        catch (ProduceException<string, byte[]> ex)
        {
            throw new KafkaStreamException($"Kafka refused an event for {target.Topic}[{target.Partition.Value}]: {ex.Error.Reason}", ex);
        }
        return acked.Task;
    }

    private void OnDelivery(DeliveryReport<string, byte[]> report, TaskCompletionSource acked)
    {
        if (report.Error.IsError)
        {
            metrics.Failed(report.Topic);
            KafkaStreamLog.DeliveryFailed(logger, report.Topic, report.Partition.Value, report.Error.Reason);
            acked.TrySetException(new KafkaStreamException($"Kafka did not take an event for {report.Topic}[{report.Partition.Value}]: {report.Error.Reason}"));
            return;
        }
        metrics.Acknowledged(report.Topic);
        acked.TrySetResult();
        EndOutage();
    }

    private void OnClientError(Error error)
    {
        if (error.Code is Confluent.Kafka.ErrorCode.Local_AllBrokersDown)
            BeginOutage(error.Reason);
        else if (error.IsFatal)
            KafkaStreamLog.ClientError(logger, Name + "-producer", error.Reason);
    }

    private void BeginOutage(string reason)
    {
        lock (outageGate)
        {
            if (outageStartedAt != 0)
                return;
            outageStartedAt = Stopwatch.GetTimestamp();
        }
        KafkaStreamLog.OutageStarted(logger, reason, options.BufferCapacity);
    }

    private void EndOutage()
    {
        long started;
        lock (outageGate)
        {
            if (outageStartedAt == 0)
                return;
            started = outageStartedAt;
            outageStartedAt = 0;
        }
        KafkaStreamLog.OutageEnded(logger, Stopwatch.GetElapsedTime(started).TotalSeconds);
    }

    public IQueueAdapterReceiver CreateReceiver(QueueId queueId)
    {
        var (topic, partition) = mapper.PartitionOf(queueId);
        var receiver = new KafkaQueueReceiver(Name, options, codec, GroupId, new TopicPartition(topic, new Partition(partition)),
            loggerFactory.CreateLogger<KafkaQueueReceiver>());
        lock (receivers)
            receivers[queueId] = receiver;
        return receiver;
    }

    /// <summary>Orleans gave up delivering <paramref name="token"/>: its offset must not hold back the commits.</summary>
    internal void GiveUp(QueueId queueId, StreamId streamId, StreamSequenceToken token)
    {
        KafkaStreamLog.DeliveryGivenUp(logger, token.ToString() ?? "", streamId.ToString());
        KafkaQueueReceiver? receiver;
        lock (receivers)
            receivers.TryGetValue(queueId, out receiver);
        receiver?.GiveUp(token);
    }

    public void Dispose()
    {
        // Whatever is still held gets a last chance; an event not flushed in time is logged by its delivery report.
        producer.Flush(TimeSpan.FromSeconds(5));
        producer.Dispose();
    }
}
