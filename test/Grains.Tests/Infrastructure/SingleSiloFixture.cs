using Orleans.TestingHost;
using OrleansControl.GrainInterfaces.Streams;
using OrleansControl.Grains.Connections;
using OrleansControl.Silo.Extensions;

namespace OrleansControl.Grains.Tests.Infrastructure;

/// <summary>
/// One silo on Redis grain storage, Redis reminders and the Redis projection (test membership). Slow heartbeat
/// settings (30 s timeout) so behaviour tests are never disturbed by a timeout on a loaded machine; timing tests use
/// <see cref="FastHeartbeatFixture"/>.
/// </summary>
public class SingleSiloFixture : IAsyncLifetime
{
    private readonly ConnectionHealthOptions _health;

    public SingleSiloFixture() : this(TestSettings.SlowHealth()) { }

    protected SingleSiloFixture(ConnectionHealthOptions health) => _health = health;

    public RedisServer Redis { get; private set; } = null!;

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IClusterClient Client => Cluster.Client;

    public async Task InitializeAsync()
    {
        Redis = await RedisServer.StartAsync();
        var options = TestSettings.RedisSilo(Redis);
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) => silo.AddControllerProviders(options, _health));
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

/// <summary>1 s heartbeats, failed after 3 missed: for the tests that are about timing.</summary>
public sealed class FastHeartbeatFixture : SingleSiloFixture
{
    public FastHeartbeatFixture() : base(TestSettings.Health()) { }
}

[CollectionDefinition(Name)]
public sealed class FastHeartbeatCollection : ICollectionFixture<FastHeartbeatFixture>
{
    public const string Name = "single silo on Redis, 1 s heartbeats";
}

/// <summary>
/// The same fast settings on a Redis of its own: the move-deadline tests leave connections retrying, whose writes would
/// disturb the Redis write counts of the heartbeat tests.
/// </summary>
public sealed class MoveDeadlineFixture : SingleSiloFixture
{
    public MoveDeadlineFixture() : base(TestSettings.Health()) { }
}

[CollectionDefinition(Name)]
public sealed class MoveDeadlineCollection : ICollectionFixture<MoveDeadlineFixture>
{
    public const string Name = "single silo on Redis, 1 s heartbeats, 1 s move deadline";
}

/// <summary>
/// 1 s heartbeats and a 10 s move deadline: the DR standby tests act on an activation before it expires (5 s was
/// outrun once in the full suite on 2 cores: the silo took 0.7 s to queue the CONNECT and the test's next call came
/// after the deadline).
/// </summary>
public sealed class StandbyFixture : SingleSiloFixture
{
    public StandbyFixture() : base(WithDeadline(TestSettings.Health())) { }

    private static ConnectionHealthOptions WithDeadline(ConnectionHealthOptions options)
    {
        options.MoveDeadline = TimeSpan.FromSeconds(10);
        return options;
    }
}

[CollectionDefinition(Name)]
public sealed class StandbyCollection : ICollectionFixture<StandbyFixture>
{
    public const string Name = "single silo on Redis, 1 s heartbeats, 10 s deadline, server session reports";
}
