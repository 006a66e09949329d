using System.Collections.Concurrent;
using Orleans.Streams;
using OrleansControl.GrainInterfaces.Streams;
using OrleansControl.Streams.Kafka;

namespace OrleansControl.Streams.Tests.Infrastructure;

/// <summary>An event as an Orleans subscriber got it.</summary>
public sealed record Received(object Data, string? EventId, long Offset);

/// <summary>Subscribes (explicitly, through the real pub-sub) to one stream and records what arrives.</summary>
[Alias("oc.test.IEventRecorderGrain")]
public interface IEventRecorderGrain : IGrainWithStringKey
{
    [Alias("Watch")]
    Task Watch(string streamNamespace, string key);
}

public sealed class EventRecorderGrain : Grain, IEventRecorderGrain
{
    /// <summary>By recorder key: the test process hosts the silo, so tests read what the grain saw directly.</summary>
    public static ConcurrentDictionary<string, ConcurrentQueue<Received>> Seen { get; } = new();

    public async Task Watch(string streamNamespace, string key)
    {
        var seen = Seen.GetOrAdd(this.GetPrimaryKeyString(), _ => new());
        var stream = this.GetStreamProvider(ControllerStreams.ProviderName).GetStream<object>(StreamId.Create(streamNamespace, key));
        var recorder = new DeduplicatingObserver<object>(new Recorder(seen));
        await stream.SubscribeAsync(recorder);
    }

    private sealed class Recorder(ConcurrentQueue<Received> seen) : IAsyncObserver<object>
    {
        public Task OnNextAsync(object item, StreamSequenceToken? token = null)
        {
            var kafka = token as KafkaEventToken;
            seen.Enqueue(new Received(item, kafka?.EventId, token?.SequenceNumber ?? -1));
            return Task.CompletedTask;
        }

        public Task OnCompletedAsync() => Task.CompletedTask;

        public Task OnErrorAsync(Exception ex) => Task.CompletedTask;
    }
}

/// <summary>Publishes on a stream of the controller provider from inside the silo, as the grains do.</summary>
[Alias("oc.test.IEventPublisherGrain")]
public interface IEventPublisherGrain : IGrainWithStringKey
{
    [Alias("Publish")]
    Task Publish(string streamNamespace, string key, List<ConnectionStatusChanged> events);
}

public sealed class EventPublisherGrain : Grain, IEventPublisherGrain
{
    public async Task Publish(string streamNamespace, string key, List<ConnectionStatusChanged> events)
    {
        var stream = this.GetStreamProvider(ControllerStreams.ProviderName).GetStream<ConnectionStatusChanged>(StreamId.Create(streamNamespace, key));
        foreach (var e in events)
            await stream.OnNextAsync(e);
    }
}

/// <summary>
/// Implicitly subscribed to every stream of <see cref="Namespace"/> (no pub-sub state to lose with a silo), recording
/// through a <see cref="DeduplicatingObserver{T}"/> keyed by the stream's key.
/// </summary>
[ImplicitStreamSubscription(Namespace)]
public sealed class ImplicitRecorderGrain : Grain, IImplicitRecorderGrain
{
    public const string Namespace = "test-takeover";

    public static ConcurrentDictionary<string, ConcurrentQueue<Received>> Seen { get; } = new();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var key = this.GetPrimaryKeyString();
        var seen = Seen.GetOrAdd(key, _ => new());
        var stream = this.GetStreamProvider(ControllerStreams.ProviderName).GetStream<object>(StreamId.Create(Namespace, key));
        await stream.SubscribeAsync(new DeduplicatingObserver<object>(new Recorder(seen)));
    }

    private sealed class Recorder(ConcurrentQueue<Received> seen) : IAsyncObserver<object>
    {
        public Task OnNextAsync(object item, StreamSequenceToken? token = null)
        {
            seen.Enqueue(new Received(item, (token as KafkaEventToken)?.EventId, token?.SequenceNumber ?? -1));
            return Task.CompletedTask;
        }

        public Task OnCompletedAsync() => Task.CompletedTask;

        public Task OnErrorAsync(Exception ex) => Task.CompletedTask;
    }
}

[Alias("oc.test.IImplicitRecorderGrain")]
public interface IImplicitRecorderGrain : IGrainWithStringKey;
