using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.TestingHost;
using OrleansControl.Silo.Extensions;

namespace OrleansControl.Grains.Tests.Infrastructure;

/// <summary>
/// Three silos on Redis clustering, storage and reminders, with the membership settings production ships
/// (<see cref="MembershipTuningOptions"/>) but slower probes, so a killed silo has a real death window of several seconds.
/// </summary>
public sealed class ThreeSiloFixture : IAsyncLifetime
{
    private const string RedisKey = "OrleansControlTestRedis";

    public RedisServer Redis { get; private set; } = null!;

    public TestCluster Cluster { get; private set; } = null!;

    public IClusterClient Client => Cluster.Client;

    /// <summary>The membership view of a silo (not a grain call: nothing here waits on a dead silo).</summary>
    public static IClusterMembershipService Membership(SiloHandle silo) =>
        ((InProcessSiloHandle)silo).SiloHost.Services.GetRequiredService<IClusterMembershipService>();

    /// <summary>
    /// kill -9 as far as the cluster can tell: the silo stops at once and writes nothing more to the membership table, so
    /// the survivors learn of its death only by missed probes and votes.
    /// </summary>
    public async Task HardKillAsync(SiloHandle silo)
    {
        var table = ((InProcessSiloHandle)silo).SiloHost.Services.GetRequiredService<IMembershipTable>();
        ((FreezableMembershipTable)table).Freeze();
        await Cluster.KillSiloAsync(silo);
    }

    /// <summary>Starts silos until three run again (a test before this one killed one).</summary>
    public async Task EnsureThreeSilosAsync()
    {
        while (Cluster.Silos.Count < 3)
            await Cluster.StartAdditionalSiloAsync();
    }

    public async Task InitializeAsync()
    {
        Redis = await RedisServer.StartAsync();
        var builder = new TestClusterBuilder(3);
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
            FreezableMembershipTable.Decorate(silo.Services);
            // 1 s ticks (the reconciliation runs on them), but nothing times out within a test.
            var health = TestSettings.Health();
            health.MissedHeartbeatsBeforeFailed = 30;
            health.MoveDeadline = TimeSpan.FromSeconds(20);
            silo.AddControllerProviders(new ControllerSiloOptions { Storage = StorageKind.Redis, Redis = redis }, health);
            silo.Configure<ClusterMembershipOptions>(m =>
            {
                // A longer death window than production's (about 2.5 s, shorter than a non-graceful stop takes on a loaded
                // machine): a call that waits for the declaration then shows as a wait of several seconds, not as a race.
                new MembershipTuningOptions { ProbeTimeout = TimeSpan.FromSeconds(4), NumMissedProbesLimit = 3 }.ApplyTo(m);
                // A killed silo's dropped "I am dead" write must not reach the others by gossip either (a real kill -9
                // sends nothing); the survivors' own declaration spreads through the table (TableRefreshTimeout).
                m.UseLivenessGossip = false;
            });
        }
    }

    private sealed class ClientConfigurator : IClientBuilderConfigurator
    {
        public void Configure(IConfiguration configuration, IClientBuilder client)
        {
            client.UseRedisClustering(configuration[RedisKey]!);
            // Set-up calls on a cold cluster can take seconds on a loaded machine; the measured move has its own clock.
            client.Configure<ClientMessagingOptions>(m => m.ResponseTimeout = TimeSpan.FromSeconds(10));
            client.Configure<GatewayOptions>(g => g.GatewayListRefreshPeriod = TimeSpan.FromSeconds(1));
        }
    }
}
