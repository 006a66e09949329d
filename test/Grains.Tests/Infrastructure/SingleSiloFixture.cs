using Orleans.TestingHost;
using OrleansControl.GrainInterfaces.Streams;
using OrleansControl.Silo.Extensions;

namespace OrleansControl.Grains.Tests.Infrastructure;

/// <summary>One silo on Redis grain storage, Redis reminders and the Redis projection (test membership).</summary>
public sealed class SingleSiloFixture : IAsyncLifetime
{
    public RedisServer Redis { get; private set; } = null!;

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IClusterClient Client => Cluster.Client;

    public async Task InitializeAsync()
    {
        Redis = await RedisServer.StartAsync();
        var options = TestSettings.RedisSilo(Redis);
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) => silo.AddControllerProviders(options, TestSettings.Health()));
        builder.ConfigureClient(client => client.AddMemoryStreams(ControllerStreams.ProviderName));
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await Cluster.DisposeAsync();
        await Redis.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class SingleSiloCollection : ICollectionFixture<SingleSiloFixture>
{
    public const string Name = "single silo on Redis";
}
