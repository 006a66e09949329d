using Orleans.TestingHost;
using OrleansControl.GrainInterfaces.Streams;
using OrleansControl.Grains.Connections;
using OrleansControl.Silo.Extensions;
using OrleansControl.Streams.Kafka;

namespace OrleansControl.Streams.Tests.Infrastructure;

/// <summary>Its own mock broker and two silos on it, sharing the queues; the client publishes straight to Kafka.</summary>
public sealed class TwoSiloKafkaFixture : IAsyncLifetime
{
    public KafkaBrokerFixture Kafka { get; } = new();

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IClusterClient Client => Cluster.Client;

    public async Task InitializeAsync()
    {
        var kafka = new KafkaStreamOptions
        {
            BootstrapServers = Kafka.BootstrapServers,
            GroupId = $"two-silos-{Guid.NewGuid():N}",
            PublishAckTimeout = TimeSpan.FromMilliseconds(500),
        };
        var options = new ControllerSiloOptions { Streams = StreamsKind.Kafka, Kafka = kafka };
        var builder = new InProcessTestClusterBuilder(2);
        builder.ConfigureSilo((_, silo) => silo.AddControllerProviders(options, new ConnectionHealthOptions
        {
            HeartbeatInterval = TimeSpan.FromSeconds(10),
            BackstopPeriod = TimeSpan.FromSeconds(10),
            MoveDeadline = TimeSpan.FromSeconds(30),
        }));
        builder.ConfigureClient(client => client.AddKafkaStreams(ControllerStreams.ProviderName, o => o.Configure(kafka.CopyTo)));
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await Cluster.DisposeAsync();
        Kafka.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class TwoSiloKafkaCollection : ICollectionFixture<TwoSiloKafkaFixture>
{
    public const string Name = "two silos on the Kafka mock broker";
}
