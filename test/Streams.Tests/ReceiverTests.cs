using Confluent.Kafka;
using Orleans.Streams;
using OrleansControl.GrainInterfaces.Streams;
using OrleansControl.Streams.Kafka;
using OrleansControl.Streams.Tests.Infrastructure;

namespace OrleansControl.Streams.Tests;

/// <summary>Reading a partition: commits only contiguous finished offsets, resumes there after a restart.</summary>
[Collection(KafkaClusterCollection.Name)]
public sealed class ReceiverTests(KafkaClusterFixture fixture)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_restarted_receiver_resumes_from_the_last_contiguous_delivered_offset_with_no_gap()
    {
        using var direct = DirectAdapter.Create(fixture.Kafka);
        for (var v = 0; v < 10; v++)
            await direct.PublishAsync("conn-1", v);
        var queue = direct.Mapper.GetQueueForStream(DirectAdapter.Stream("conn-1"));

        var first = (KafkaQueueReceiver)direct.Adapter.CreateReceiver(queue);
        await first.Initialize(TimeSpan.FromSeconds(5));
        var read = await ReadAsync(first, 10);
        Assert.Equal(Enumerable.Range(0, 10).Select(o => (long)o), read.Select(b => b.SequenceToken.SequenceNumber));

        // Delivered: 0-3 and 5-6; 4 is still with a slow subscriber. Only 0-3 may be committed.
        await first.MessagesDeliveredAsync(read.Where(b => b.SequenceToken.SequenceNumber is (>= 0 and <= 3) or 5 or 6).ToList());
        Assert.Equal(4, first.CommittedOffset);
        await first.Shutdown(TimeSpan.FromSeconds(5));
        Assert.Equal(4, Committed(direct));

        var second = (KafkaQueueReceiver)direct.Adapter.CreateReceiver(queue);
        await second.Initialize(TimeSpan.FromSeconds(5));
        var again = await ReadAsync(second, 6);
        Assert.Equal(Enumerable.Range(4, 6).Select(o => (long)o), again.Select(b => b.SequenceToken.SequenceNumber));
        Assert.Equal(read.Skip(4).Select(Id), again.Select(Id));
        Assert.Equal(Enumerable.Range(4, 6).Select(v => (long)v), again.Select(b => b.GetEvents<ConnectionStatusChanged>().Single().Item1.Version));

        await second.MessagesDeliveredAsync(again);
        await second.Shutdown(TimeSpan.FromSeconds(5));
        Assert.Equal(10, Committed(direct));
    }

    [Fact]
    public async Task The_same_event_read_twice_is_handed_to_Orleans_once()
    {
        using var direct = DirectAdapter.Create(fixture.Kafka);
        await direct.PublishAsync("conn-1", 1);
        // Another producer (or a retry that was not idempotent) wrote the very same CloudEvent again.
        var original = (await TopicReader.ReadUntilAsync(fixture.Kafka.BootstrapServers, direct.Topic, 1, r => r.Count >= 1, Wait)).Single();
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = fixture.Kafka.BootstrapServers }).Build())
            await producer.ProduceAsync(direct.Topic, new Message<string, string> { Key = original.Key, Value = original.CloudEvent.GetRawText() });
        await direct.PublishAsync("conn-1", 2);

        var receiver = (KafkaQueueReceiver)direct.Adapter.CreateReceiver(direct.Mapper.GetQueueForStream(DirectAdapter.Stream("conn-1")));
        await receiver.Initialize(TimeSpan.FromSeconds(5));
        var read = await ReadAsync(receiver, 2);
        await Task.Delay(300);
        read.AddRange(await receiver.GetQueueMessagesAsync(10));
        Assert.Equal([1L, 2], read.Select(b => b.GetEvents<ConnectionStatusChanged>().Single().Item1.Version));
        await receiver.MessagesDeliveredAsync(read);
        Assert.Equal(3, receiver.CommittedOffset); // the duplicate's offset counts as finished
        await receiver.Shutdown(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_partition_taken_over_by_another_silo_repeats_only_what_was_in_flight_and_the_subscriber_drops_the_repeats()
    {
        using var direct = DirectAdapter.Create(fixture.Kafka);
        for (var v = 1; v <= 8; v++)
            await direct.PublishAsync("conn-1", v);
        var queue = direct.Mapper.GetQueueForStream(DirectAdapter.Stream("conn-1"));
        var got = new List<long>();
        var subscriber = new DeduplicatingObserver<ConnectionStatusChanged>(new Collect(got));

        // Silo A reads everything and delivers it, but only 1-5 are reported finished before it stops.
        var a = (KafkaQueueReceiver)direct.Adapter.CreateReceiver(queue);
        await a.Initialize(TimeSpan.FromSeconds(5));
        var readByA = await ReadAsync(a, 8);
        foreach (var b in readByA)
            await Deliver(subscriber, b);
        await a.MessagesDeliveredAsync(readByA.Take(5).ToList());
        await a.Shutdown(TimeSpan.FromSeconds(5));

        // Silo B (its own producer and consumers, same group) takes the partition over.
        using var siloB = DirectAdapter.Create(fixture.Kafka, groupId: direct.Options.GroupId, topic: direct.Topic);
        var b2 = (KafkaQueueReceiver)siloB.Adapter.CreateReceiver(queue);
        await b2.Initialize(TimeSpan.FromSeconds(5));
        await siloB.PublishAsync("conn-1", 9);
        var readByB = await ReadAsync(b2, 4);
        Assert.Equal([5L, 6, 7, 8], readByB.Select(b => b.SequenceToken.SequenceNumber));
        foreach (var b in readByB)
            await Deliver(subscriber, b);
        await b2.MessagesDeliveredAsync(readByB);
        await b2.Shutdown(TimeSpan.FromSeconds(5));

        Assert.Equal(Enumerable.Range(1, 9).Select(v => (long)v), got);
        Assert.Equal(3, subscriber.Dropped);
    }

    private static Task Deliver(IAsyncObserver<ConnectionStatusChanged> observer, IBatchContainer batch)
    {
        var (item, token) = batch.GetEvents<ConnectionStatusChanged>().Single();
        return observer.OnNextAsync(item, token);
    }

    private sealed class Collect(List<long> versions) : IAsyncObserver<ConnectionStatusChanged>
    {
        public Task OnNextAsync(ConnectionStatusChanged item, StreamSequenceToken? token = null)
        {
            versions.Add(item.Version);
            return Task.CompletedTask;
        }

        public Task OnCompletedAsync() => Task.CompletedTask;

        public Task OnErrorAsync(Exception ex) => Task.CompletedTask;
    }

    private static string Id(IBatchContainer b) => ((KafkaEventToken)b.SequenceToken).EventId;

    private static async Task<List<IBatchContainer>> ReadAsync(KafkaQueueReceiver receiver, int count)
    {
        var read = new List<IBatchContainer>();
        var deadline = DateTime.UtcNow + Wait;
        while (read.Count < count && DateTime.UtcNow < deadline)
        {
            read.AddRange(await receiver.GetQueueMessagesAsync(100));
            await Task.Delay(50);
        }
        return read;
    }

    private long Committed(DirectAdapter direct)
    {
        using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = fixture.Kafka.BootstrapServers,
            GroupId = direct.Options.GroupId,
        }).Build();
        return consumer.Committed([new TopicPartition(direct.Topic, 0)], TimeSpan.FromSeconds(10)).Single().Offset.Value;
    }
}
