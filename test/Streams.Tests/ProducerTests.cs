using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Serialization;
using OrleansControl.GrainInterfaces.Streams;
using OrleansControl.Streams.Kafka;
using OrleansControl.Streams.Tests.Infrastructure;

namespace OrleansControl.Streams.Tests;

/// <summary>Publishing through outages: events held in order, a full buffer refused with a typed error.</summary>
[Collection(KafkaClusterCollection.Name)]
public sealed class ProducerTests(KafkaClusterFixture fixture)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Events_published_while_the_brokers_are_down_arrive_in_order_when_they_return()
    {
        var key = $"conn-{Guid.NewGuid():N}";
        var recorder = $"rec-{Guid.NewGuid():N}";
        await fixture.Client.GetGrain<IEventRecorderGrain>(recorder).Watch(ControllerStreams.StatusNamespace, key);
        var publisher = fixture.Client.GetGrain<IEventPublisherGrain>(key);
        var seen = EventRecorderGrain.Seen.GetOrAdd(recorder, _ => new());
        await publisher.Publish(ControllerStreams.StatusNamespace, key, [.. Events(key, 1, 3)]);
        Assert.True(await Eventually.TrueAsync(() => seen.Count == 3, Wait));

        fixture.Kafka.Broker.SetAllBrokersDown();
        try
        {
            await publisher.Publish(ControllerStreams.StatusNamespace, key, [.. Events(key, 4, 20)]);
        }
        finally
        {
            await Task.Delay(TimeSpan.FromSeconds(2));
            fixture.Kafka.Broker.SetAllBrokersUp();
        }

        Assert.True(await Eventually.TrueAsync(() => seen.Count >= 20, Wait), $"{seen.Count} of 20 arrived");
        await Task.Delay(500);
        Assert.Equal(Enumerable.Range(1, 20).Select(v => (long)v), seen.Select(r => ((ConnectionStatusChanged)r.Data).Version));
    }

    [Fact]
    public async Task A_moved_partition_leader_does_not_interrupt_delivery()
    {
        var key = $"conn-{Guid.NewGuid():N}";
        var recorder = $"rec-{Guid.NewGuid():N}";
        await fixture.Client.GetGrain<IEventRecorderGrain>(recorder).Watch(ControllerStreams.StatusNamespace, key);
        var publisher = fixture.Client.GetGrain<IEventPublisherGrain>(key);
        var seen = EventRecorderGrain.Seen.GetOrAdd(recorder, _ => new());
        await publisher.Publish(ControllerStreams.StatusNamespace, key, [.. Events(key, 1, 5)]);
        Assert.True(await Eventually.TrueAsync(() => seen.Count == 5, Wait));

        var (topic, partition) = new KafkaQueueMapper(fixture.StreamOptions()).PartitionFor(ControllerStreams.StatusOf(key));
        for (var broker = 1; broker <= 3; broker++)
        {
            fixture.Kafka.Broker.SetPartitionLeader(topic, partition, broker);
            await publisher.Publish(ControllerStreams.StatusNamespace, key, [.. Events(key, 5 + broker * 2 - 1, 5 + broker * 2)]);
        }

        Assert.True(await Eventually.TrueAsync(() => seen.Count >= 11, Wait), $"{seen.Count} of 11 arrived");
        Assert.Equal(Enumerable.Range(1, 11).Select(v => (long)v), seen.Select(r => ((ConnectionStatusChanged)r.Data).Version));
    }

    [Fact]
    public async Task A_full_buffer_refuses_the_publish_with_KafkaBufferFullException_and_loses_nothing_it_took()
    {
        using var direct = DirectAdapter.Create(fixture.Kafka, bufferCapacity: 5);
        await direct.PublishAsync("conn-1", 0); // the producer knows the brokers before they go
        Assert.True(await Eventually.TrueAsync(() => direct.Adapter.Held == 0, Wait));

        // The brokers may have just come back from an earlier test: count only this outage's lines.
        await Task.Delay(500);
        var startedBefore = direct.Count(LogLevel.Warning, 1);
        var endedBefore = direct.Count(LogLevel.Information, 2);
        fixture.Kafka.Broker.SetAllBrokersDown();
        KafkaBufferFullException? refused = null;
        try
        {
            for (var v = 1; v <= 5; v++)
                await direct.PublishAsync("conn-1", v);
            Assert.Equal(5, direct.Adapter.Held);
            refused = await Assert.ThrowsAsync<KafkaBufferFullException>(() => direct.PublishAsync("conn-1", 6));
        }
        finally
        {
            fixture.Kafka.Broker.SetAllBrokersUp();
        }
        Assert.Equal(5, refused.Capacity);
        Assert.Equal(direct.Topic, refused.Topic);
        Assert.DoesNotContain("conn-1", refused.Message, StringComparison.Ordinal);
        // One line for the outage, however many events were held.
        Assert.Equal(startedBefore + 1, direct.Count(LogLevel.Warning, 1));

        Assert.True(await Eventually.TrueAsync(() => direct.Adapter.Held == 0, Wait), $"{direct.Adapter.Held} still held");
        var records = await TopicReader.ReadUntilAsync(fixture.Kafka.BootstrapServers, direct.Topic, 1, r => r.Count >= 6, Wait);
        Assert.Equal([0L, 1, 2, 3, 4, 5], records.Select(r => r.CloudEvent.GetProperty("data").GetProperty("version").GetInt64()));
        Assert.True(await Eventually.TrueAsync(() => direct.Count(LogLevel.Information, 2) == endedBefore + 1, Wait));
    }

    [Fact]
    public void The_typed_error_survives_an_Orleans_call_so_the_grains_caller_sees_it()
    {
        var serializer = fixture.Cluster.Silos[0].ServiceProvider.GetRequiredService<Serializer>();
        var error = new KafkaBufferFullException("connection-status", 5, new InvalidOperationException("queue full"));
        var copy = serializer.Deserialize<Exception>(serializer.SerializeToArray<Exception>(error));
        var typed = Assert.IsType<KafkaBufferFullException>(copy);
        Assert.Equal(("connection-status", 5), (typed.Topic, typed.Capacity));
        Assert.Equal(error.Message, typed.Message);
    }

    private static IEnumerable<ConnectionStatusChanged> Events(string key, long from, long to)
    {
        for (var v = from; v <= to; v++)
            yield return DirectAdapter.Event(key, v);
    }
}
