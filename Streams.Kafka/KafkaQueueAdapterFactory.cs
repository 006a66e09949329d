using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Providers.Streams.Common;
using Orleans.Runtime;
using Orleans.Streams;
using OrleansControl.Streams.Kafka.Wire;

namespace OrleansControl.Streams.Kafka;

/// <summary>
/// Orleans' entry point for the provider: the adapter (one producer per silo), the queue mapper (topic partitions ⇄
/// queues), the cache in front of each receiver, and what happens when Orleans gives up delivering an event.
/// </summary>
public sealed class KafkaQueueAdapterFactory : IQueueAdapterFactory, IDisposable
{
    private readonly string name;
    private readonly KafkaStreamOptions options;
    private readonly ILoggerFactory loggerFactory;
    private readonly KafkaQueueMapper mapper;
    private readonly SimpleQueueAdapterCache cache;
    private readonly Lazy<KafkaQueueAdapter> adapter;

    public KafkaQueueAdapterFactory(string name, KafkaStreamOptions options, string groupId, string siloName,
        ILoggerFactory loggerFactory, TimeProvider time)
    {
        if (options.FindProblem() is { } problem)
            throw new OptionsValidationException(name, typeof(KafkaStreamOptions), [problem]);
        this.name = name;
        this.options = options;
        this.loggerFactory = loggerFactory;
        mapper = new KafkaQueueMapper(options);
        cache = new SimpleQueueAdapterCache(new SimpleQueueCacheOptions { CacheSize = options.CacheSize }, name, loggerFactory);
        var codec = new CloudEventCodec(EventCatalog.Controller, CloudEventCodec.SourceFor(options.Region, siloName));
        adapter = new Lazy<KafkaQueueAdapter>(() => new KafkaQueueAdapter(name, options, mapper, codec, groupId, loggerFactory, time));
    }

    public static KafkaQueueAdapterFactory Create(IServiceProvider services, string name)
    {
        var options = services.GetRequiredService<IOptionsMonitor<KafkaStreamOptions>>().Get(name);
        var cluster = services.GetRequiredService<IOptions<ClusterOptions>>().Value;
        var siloName = services.GetService<ILocalSiloDetails>()?.Name ?? Environment.MachineName;
        return new KafkaQueueAdapterFactory(name, options, options.GroupId ?? DefaultGroupId(cluster.ServiceId, options.Region, name), siloName,
            services.GetRequiredService<ILoggerFactory>(), services.GetService<TimeProvider>() ?? TimeProvider.System);
    }

    /// <summary>
    /// One consumer group per region: two regions on one bus (the same ServiceId, other clusters) each read every event,
    /// rather than sharing the partitions between them.
    /// </summary>
    public static string DefaultGroupId(string serviceId, string region, string provider) => $"{serviceId}-{region}-{provider}";

    public Task<IQueueAdapter> CreateAdapter() => Task.FromResult<IQueueAdapter>(adapter.Value);

    public IQueueAdapterCache GetQueueAdapterCache() => cache;

    public IStreamQueueMapper GetStreamQueueMapper() => mapper;

    public Task<IStreamFailureHandler> GetDeliveryFailureHandler(QueueId queueId) =>
        Task.FromResult<IStreamFailureHandler>(new GiveUpHandler(adapter.Value, queueId));

    public void Dispose()
    {
        if (adapter.IsValueCreated)
            adapter.Value.Dispose();
    }

    /// <summary>
    /// After Orleans' own retries a subscriber that still fails is skipped (Orleans' default) and the event counts as
    /// finished, so one poisoned subscriber does not hold back the partition's commits forever. Logged per event.
    /// </summary>
    private sealed class GiveUpHandler(KafkaQueueAdapter adapter, QueueId queueId) : IStreamFailureHandler
    {
        public bool ShouldFaultSubsriptionOnError => false;

        public Task OnDeliveryFailure(GuidId subscriptionId, string streamProviderName, StreamId streamIdentity, StreamSequenceToken? sequenceToken)
        {
            if (sequenceToken is not null)
                adapter.GiveUp(queueId, streamIdentity, sequenceToken);
            return Task.CompletedTask;
        }

        public Task OnSubscriptionFailure(GuidId subscriptionId, string streamProviderName, StreamId streamIdentity, StreamSequenceToken? sequenceToken) =>
            Task.CompletedTask;
    }
}
