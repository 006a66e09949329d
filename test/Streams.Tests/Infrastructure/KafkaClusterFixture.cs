using Orleans.TestingHost;
using OrleansControl.Grains.Connections;
using OrleansControl.Silo.Extensions;
using OrleansControl.Streams.Kafka;

namespace OrleansControl.Streams.Tests.Infrastructure;

/// <summary>
/// The mock broker and one silo composed exactly as production composes it (AddControllerProviders) with
/// Controller:Streams=kafka. A fresh consumer group per fixture, so committed offsets never leak between runs.
/// </summary>
public class KafkaClusterFixture : IAsyncLifetime
{
    private readonly int _bufferCapacity;

    public KafkaClusterFixture() : this(100_000) { }

    protected KafkaClusterFixture(int bufferCapacity) => _bufferCapacity = bufferCapacity;

    public KafkaBrokerFixture Kafka { get; } = new();

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IClusterClient Client => Cluster.Client;

    public string GroupId { get; } = $"streams-tests-{Guid.NewGuid():N}";

    public KafkaStreamOptions StreamOptions() => new()
    {
        BootstrapServers = Kafka.BootstrapServers,
        GroupId = GroupId,
        PublishAckTimeout = TimeSpan.FromMilliseconds(500),
        BufferCapacity = _bufferCapacity,
    };

    public async Task InitializeAsync()
    {
        var options = new ControllerSiloOptions { Streams = StreamsKind.Kafka, Kafka = StreamOptions() };
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) => silo.AddControllerProviders(options, SlowHealth()));
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await Cluster.DisposeAsync();
        Kafka.Dispose();
    }

    /// <summary>Nothing times out within a test: these tests are about events, not heartbeats.</summary>
    private static ConnectionHealthOptions SlowHealth() => new()
    {
        HeartbeatInterval = TimeSpan.FromSeconds(10),
        MissedHeartbeatsBeforeFailed = 3,
        HeartbeatPersistInterval = TimeSpan.FromSeconds(1),
        BackstopPeriod = TimeSpan.FromSeconds(10),
        MoveDeadline = TimeSpan.FromSeconds(30),
    };
}

/// <summary>The same with an outage buffer of 2 events: a broker outage fills it at once.</summary>
public sealed class SmallBufferKafkaClusterFixture : KafkaClusterFixture
{
    public SmallBufferKafkaClusterFixture() : base(bufferCapacity: 2) { }
}

[CollectionDefinition(Name)]
public sealed class SmallBufferKafkaClusterCollection : ICollectionFixture<SmallBufferKafkaClusterFixture>
{
    public const string Name = "silo on the Kafka mock broker, 2-event outage buffer";
}

[CollectionDefinition(Name)]
public sealed class KafkaClusterCollection : ICollectionFixture<KafkaClusterFixture>
{
    public const string Name = "silo on the Kafka mock broker";
}
