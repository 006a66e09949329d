using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.TestingHost;
using OrleansControl.Silo.Extensions;

namespace OrleansControl.Grains.Tests.Infrastructure;

/// <summary>
/// Two silos on Redis clustering (no test membership), Redis grain storage and Redis reminders, with membership
/// probes tuned so a killed silo is declared dead in a few seconds instead of ~15. TestClusterBuilder rather than
/// InProcessTestClusterBuilder because only the former exposes UseTestClusterMembership in Orleans 10.4.2.
/// </summary>
public sealed class MultiSiloFixture : IAsyncLifetime
{
    private const string RedisKey = "OrleansControlTestRedis";

    public RedisServer Redis { get; private set; } = null!;

    public TestCluster Cluster { get; private set; } = null!;

    public IClusterClient Client => Cluster.Client;

    public async Task InitializeAsync()
    {
        Redis = await RedisServer.StartAsync();
        var builder = new TestClusterBuilder(2);
        builder.Options.UseTestClusterMembership = false;
        builder.Properties[RedisKey] = Redis.ConnectionString;
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        builder.AddClientBuilderConfigurator<ClientConfigurator>();
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await Cluster.DisposeAsync();
        await Redis.DisposeAsync();
    }

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder silo)
        {
            var redis = silo.Configuration[RedisKey]!;
            silo.UseRedisClustering(redis);
            // 1 s heartbeats, failed after 6 missed: live sidecars whose calls were stuck on the killed silo (up to the
            // client's 3 s response timeout) must not be mistaken for dead ones.
            var health = TestSettings.Health();
            health.MissedHeartbeatsBeforeFailed = 6;
            silo.AddControllerProviders(new ControllerSiloOptions { Storage = StorageKind.Redis, Redis = redis }, health);
            silo.Configure<ClusterMembershipOptions>(m =>
            {
                m.ProbeTimeout = TimeSpan.FromSeconds(1);
                m.NumMissedProbesLimit = 2;
                m.NumVotesForDeathDeclaration = 1;
                m.TableRefreshTimeout = TimeSpan.FromSeconds(1);
                m.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(2);
            });
            silo.Configure<SiloMessagingOptions>(m => m.ResponseTimeout = TimeSpan.FromSeconds(5));
        }
    }

    private sealed class ClientConfigurator : IClientBuilderConfigurator
    {
        public void Configure(IConfiguration configuration, IClientBuilder client)
        {
            client.UseRedisClustering(configuration[RedisKey]!);
            client.Configure<ClientMessagingOptions>(m => m.ResponseTimeout = TimeSpan.FromSeconds(3));
            client.Configure<GatewayOptions>(g => g.GatewayListRefreshPeriod = TimeSpan.FromSeconds(1));
        }
    }
}
