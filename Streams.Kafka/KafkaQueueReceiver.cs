using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Orleans.Streams;
using OrleansControl.Streams.Kafka.Wire;

namespace OrleansControl.Streams.Kafka;

/// <summary>
/// Reads one topic partition for the silo that owns its queue. The partition is assigned, not subscribed: Orleans'
/// queue balancer decides which silo reads it, and the consumer group only keeps the committed offset. Reading starts
/// at that offset; an offset is committed once it and every offset before it were delivered to all subscribers
/// (<see cref="ContiguousOffsetTracker"/>), so a restarted receiver resumes with no gap (and repeats what was in flight:
/// at least once; <see cref="DeduplicatingObserver{T}"/> drops repeats on the subscriber side).
/// </summary>
public sealed class KafkaQueueReceiver : IQueueAdapterReceiver
{
    private const int DefaultBatch = 100;

    private readonly string provider;
    private readonly KafkaStreamOptions options;
    private readonly CloudEventCodec codec;
    private readonly string groupId;
    private readonly TopicPartition partition;
    private readonly ILogger logger;
    private readonly ContiguousOffsetTracker tracker = new();
    private readonly RecentIds recent;
    private IConsumer<string, byte[]>? consumer;
    private long? stored;

    public KafkaQueueReceiver(string provider, KafkaStreamOptions options, CloudEventCodec codec, string groupId, TopicPartition partition, ILogger logger)
    {
        this.provider = provider;
        this.options = options;
        this.codec = codec;
        this.groupId = groupId;
        this.partition = partition;
        this.logger = logger;
        recent = new RecentIds(options.DeduplicationWindow);
    }

    public TopicPartition Partition => partition;

    /// <summary>The offset the next reader of this partition starts at, as far as this receiver has committed it.</summary>
    public long? CommittedOffset => stored;

    public Task Initialize(TimeSpan timeout)
    {
        var config = KafkaClientConfig.Apply(new ConsumerConfig
        {
            GroupId = groupId,
            // Offsets are stored only when contiguous-finished and committed in the background (and at shutdown).
            EnableAutoCommit = true,
            AutoCommitIntervalMs = 500,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = options.AutoOffsetReset.Equals("latest", StringComparison.OrdinalIgnoreCase)
                ? Confluent.Kafka.AutoOffsetReset.Latest
                : Confluent.Kafka.AutoOffsetReset.Earliest,
            EnablePartitionEof = false,
            // The broker answers a fetch at once when it has data; this bounds the wait when it had none a moment ago
            // (librdkafka's 500 ms default put ~300 ms on every event's way to the subscriber).
            FetchWaitMaxMs = 100,
        }, options, $"{provider}-{partition.Topic}-{partition.Partition.Value}");
        consumer = new ConsumerBuilder<string, byte[]>(config)
            .SetErrorHandler((_, error) =>
            {
                if (error.IsFatal)
                    KafkaStreamLog.ClientError(logger, $"{partition.Topic}[{partition.Partition.Value}]", error.Reason);
            })
            .SetLogHandler((_, _) => { })
            .Build();
        consumer.Assign(new TopicPartitionOffset(partition, Offset.Stored));
        KafkaStreamLog.ReceiverStarted(logger, partition.Topic, partition.Partition.Value, groupId, options.AutoOffsetReset);
        return Task.CompletedTask;
    }

    public Task<IList<IBatchContainer>> GetQueueMessagesAsync(int maxCount)
    {
        var batch = new List<IBatchContainer>();
        if (consumer is null)
            return Task.FromResult<IList<IBatchContainer>>(batch);
        var limit = maxCount > 0 ? maxCount : DefaultBatch;
        while (batch.Count < limit)
        {
            ConsumeResult<string, byte[]>? result;
            try
            {
                result = consumer.Consume(TimeSpan.Zero);
            }
            catch (ConsumeException ex)
            {
                // A bad record (deserialization) carries its offset: skip it; anything else is retried next pull.
                if (ex.ConsumerRecord is { } bad && bad.TopicPartition == partition)
                {
                    tracker.Fetched(bad.Offset.Value, 0);
                    KafkaStreamLog.Skipped(logger, partition.Topic, partition.Partition.Value, bad.Offset.Value, ex.Error.Reason);
                    continue;
                }
                break;
            }
            if (result?.Message is null)
                break;
            Add(result, batch);
        }
        StoreCommittable();
        return Task.FromResult<IList<IBatchContainer>>(batch);
    }

    private void Add(ConsumeResult<string, byte[]> result, List<IBatchContainer> batch)
    {
        var offset = result.Offset.Value;
        var stream = KafkaQueueMapper.StreamOf(result.Message.Key);
        var decoded = stream is null ? null : codec.Decode(result.Message.Value, out var problem);
        if (stream is null || decoded is null)
        {
            tracker.Fetched(offset, 0);
            KafkaStreamLog.Skipped(logger, partition.Topic, partition.Partition.Value, offset,
                stream is null ? $"key '{result.Message.Key}' is not namespace/key" : "not a catalogued CloudEvent");
            return;
        }
        if (!recent.Add(decoded.Id))
        {
            tracker.Fetched(offset, 0);
            KafkaStreamMetrics.Duplicate(partition.Topic);
            return;
        }
        var own = stream.Value;
        var copies = 1;
        batch.Add(new KafkaBatchContainer(own, new KafkaEventToken(offset, 0, decoded.Id), decoded.Data));
        if (options.AllStreamKey is { } all && own.GetKeyAsString() != all)
        {
            batch.Add(new KafkaBatchContainer(Orleans.Runtime.StreamId.Create(own.GetNamespace()!, all),
                new KafkaEventToken(offset, 1, decoded.Id), decoded.Data));
            copies = 2;
        }
        tracker.Fetched(offset, copies);
        KafkaStreamMetrics.Received(partition.Topic);
    }

    public Task MessagesDeliveredAsync(IList<IBatchContainer> messages)
    {
        foreach (var message in messages)
        {
            if (message.SequenceToken is KafkaEventToken token)
                tracker.Finished(token.SequenceNumber, token.EventIndex);
        }
        StoreCommittable();
        return Task.CompletedTask;
    }

    internal void GiveUp(StreamSequenceToken token)
    {
        tracker.Finished(token.SequenceNumber, token.EventIndex);
        StoreCommittable();
    }

    private void StoreCommittable()
    {
        if (consumer is null || tracker.Committable is not { } next || next == stored)
            return;
        try
        {
            consumer.StoreOffset(new TopicPartitionOffset(partition, new Offset(next)));
            stored = next;
        }
        catch (KafkaException ex)
        {
            KafkaStreamLog.CommitFailed(logger, partition.Topic, partition.Partition.Value, next, ex.Error.Reason);
        }
    }

    public Task Shutdown(TimeSpan timeout)
    {
        var c = consumer;
        consumer = null;
        if (c is null)
            return Task.CompletedTask;
        try
        {
            if (stored is { } offset)
                c.Commit([new TopicPartitionOffset(partition, new Offset(offset))]);
        }
        catch (KafkaException ex)
        {
            KafkaStreamLog.CommitFailed(logger, partition.Topic, partition.Partition.Value, stored ?? -1, ex.Error.Reason);
        }
        finally
        {
            c.Close();
            c.Dispose();
        }
        KafkaStreamLog.ReceiverStopped(logger, partition.Topic, partition.Partition.Value, stored);
        return Task.CompletedTask;
    }
}
