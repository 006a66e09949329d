using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.Runtime;
using Orleans.TestingHost;
using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.Grains.Kubernetes;
using OrleansControl.Grains.Tests.Infrastructure;
using OrleansControl.Silo.Extensions;

namespace OrleansControl.Grains.Tests.Kubernetes;

/// <summary>
/// The scaler's lane survives the loss of its silo: two silos on Redis (membership, grain storage, reminders) acting on
/// the fake API server; the silo hosting a pool's scaler is killed mid-action, and the activation that takes over on
/// the other silo finishes that action (no second PATCH) and keeps the scale-down delay where it was.
/// </summary>
public sealed class PoolScalerRestartTests : IAsyncLifetime
{
    private const string RedisKey = "OrleansControlTestRedis";
    private const string KubeconfigKey = "OrleansControlTestKubeconfig";
    private static readonly TimeSpan ScaleDownDelay = TimeSpan.FromSeconds(15);

    private readonly string _dir = Directory.CreateTempSubdirectory("oc-k8s-restart-").FullName;
    private RedisServer _redis = null!;
    private FakeKubernetesApi _api = null!;
    private TestCluster _cluster = null!;

    private IClusterClient Client => _cluster.Client;

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        _api = await FakeKubernetesApi.StartAsync();
        var builder = new TestClusterBuilder(2);
        builder.Options.UseTestClusterMembership = false;
        builder.Properties[RedisKey] = _redis.ConnectionString;
        builder.Properties[KubeconfigKey] = _api.WriteKubeconfig(_dir);
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        builder.AddClientBuilderConfigurator<ClientConfigurator>();
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        await _api.DisposeAsync();
        await _redis.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task A_scale_up_in_flight_is_finished_by_the_activation_that_takes_over_after_its_silo_is_killed()
    {
        _api.ReadyAfterOf["up-servers"] = TimeSpan.FromSeconds(10); // the new pod is still starting when the silo dies
        _api.AddDeployment("up-servers", 1);
        using var registrar = new CancellationTokenSource();
        var registering = RegisterReadyPodsAsync("up", registrar.Token);
        var scaler = Client.GetGrain<IPoolScalerGrain>("up");
        await TestSettings.EventuallyAsync(() => scaler.GetStatus(), s => s.InFlight == "scale-up 1 -> 2", TimeSpan.FromSeconds(20));
        // Recorded before its PATCH; killed once the PATCH has landed, while it waits for the pod.
        await TestSettings.EventuallyAsync(() => Task.FromResult(_api.ReplicasOf("up-servers")), r => r == 2, TimeSpan.FromSeconds(10));
        Assert.Equal("scale-up 1 -> 2", (await scaler.GetStatus()).InFlight);

        await KillSiloHostingAsync(scaler);

        var done = await EventAsync(scaler, e => e is { Action: ScalingAction.ScaleUp, Outcome: ScalingOutcome.Succeeded }, TimeSpan.FromSeconds(60));
        await registrar.CancelAsync();
        await registering;
        Assert.Equal((1, 2), (done.FromReplicas, done.ToReplicas));
        Assert.Contains("resumed by a new activation", done.Detail, StringComparison.Ordinal);
        Assert.Single(_api.Requests, r => r.Method == "PATCH" && r.Path.EndsWith("/deployments/up-servers/scale", StringComparison.Ordinal));
        Assert.Equal(2, _api.ReplicasOf("up-servers"));
        Assert.Null((await scaler.GetStatus()).InFlight);
        Assert.Equal(2, (await Client.GetGrain<IServerPoolGrain>("up").GetSnapshot()).Servers.Count(ScalingDecision.IsUsable));
    }

    [Fact]
    public async Task The_scale_down_delay_is_not_restarted_when_the_scaler_silo_is_killed_and_nobody_calls_it()
    {
        var pods = _api.AddDeployment("down-servers", 3); // its need is 2: one spare
        var pool = Client.GetGrain<IServerPoolGrain>("down");
        for (var i = 0; i < pods.Count; i++)
            await pool.AddOrUpdateServer(new ServerDefinition(pods[i], $"10.9.7.{i + 1}:5000", "a", 10));
        var scaler = Client.GetGrain<IPoolScalerGrain>("down");
        var since = (await TestSettings.EventuallyAsync(() => scaler.GetStatus(), s => s.OverNeedSince is not null, TimeSpan.FromSeconds(20))).OverNeedSince!.Value;

        // A third of the way into the delay: a scaler that forgot would wait a full delay again from its new start.
        var third = since + ScaleDownDelay / 3 - DateTimeOffset.UtcNow;
        if (third > TimeSpan.Zero)
            await Task.Delay(third);
        var killedAt = DateTimeOffset.UtcNow;
        await KillSiloHostingAsync(scaler);
        await TestSettings.EventuallyAsync(() => Client.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true), h => h.Count == 1, TimeSpan.FromSeconds(30));

        // Nothing calls the scaler now: its reminder brings it back, and the delay runs on from where it was.
        var patch = await TestSettings.EventuallyAsync(
            () => Task.FromResult(_api.Requests.FirstOrDefault(r => r.Method == "PATCH" && r.Path.EndsWith("/deployments/down-servers/scale", StringComparison.Ordinal))),
            r => r is not null, TimeSpan.FromSeconds(60));
        Assert.NotNull(patch);
        Assert.Equal("""{"spec":{"replicas":2}}""", patch.Body);
        Assert.True(patch.At >= since + ScaleDownDelay, $"scaled down {patch.At - since} after the pool went over its need: the delay is {ScaleDownDelay}");
        var done = await EventAsync(scaler, e => e is { Action: ScalingAction.ScaleDown, Outcome: ScalingOutcome.Succeeded }, TimeSpan.FromSeconds(20));
        Assert.Equal((3, 2), (done.FromReplicas, done.ToReplicas));
        // A fresh activation that had forgotten would count the delay from its own start, after the kill.
        Assert.True(patch.At < killedAt + ScaleDownDelay, $"scaled down {patch.At - killedAt} after the kill: the delay was restarted");
    }

    private async Task KillSiloHostingAsync(IGrain grain)
    {
        var address = await Client.GetGrain<IManagementGrain>(0).GetActivationAddress(grain)
            ?? throw new InvalidOperationException("the scaler is not active");
        await _cluster.KillSiloAsync(_cluster.Silos.Single(s => s.SiloAddress.Equals(address)));
    }

    private static async Task<ScalingEvent> EventAsync(IPoolScalerGrain scaler, Func<ScalingEvent, bool> match, TimeSpan timeout)
    {
        var events = await TestSettings.EventuallyAsync(() => scaler.GetEvents(), e => e.Any(match), timeout);
        return events.First(match);
    }

    /// <summary>The scheme's registrar: every Ready pod becomes a server of the pool; calls stuck on the killed silo are retried.</summary>
    private async Task RegisterReadyPodsAsync(string poolId, CancellationToken cancellationToken)
    {
        var registered = new HashSet<string>(StringComparer.Ordinal);
        while (!cancellationToken.IsCancellationRequested)
        {
            foreach (var pod in _api.PodsOf($"{poolId}-servers").Where(p => _api.IsReady(p) && !registered.Contains(p.Name)))
            {
                try
                {
                    await Client.GetGrain<IServerPoolGrain>(poolId).AddOrUpdateServer(new ServerDefinition(pod.Name, $"{pod.Ip}:5000", "a", 10));
                    registered.Add(pod.Name);
                }
                catch (Exception) when (!cancellationToken.IsCancellationRequested)
                {
                    // the pool grain was on the killed silo, not yet declared dead
                }
            }
            try
            {
                await Task.Delay(100, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder silo)
        {
            var redis = silo.Configuration[RedisKey]!;
            var kubernetes = new KubernetesOptions
            {
                Enabled = true,
                Connection = KubernetesConnection.Kubeconfig,
                KubeconfigPath = silo.Configuration[KubeconfigKey],
                Namespace = FakeKubernetesApi.Namespace,
                ScaleDownDelay = ScaleDownDelay,
                ReadyTimeout = TimeSpan.FromSeconds(60),
                PollInterval = TimeSpan.FromMilliseconds(200),
                EvaluationInterval = TimeSpan.FromMilliseconds(500),
                BackoffAfterFailure = TimeSpan.FromSeconds(1),
                RequestTimeout = TimeSpan.FromSeconds(2),
                MaxRetries = 2,
                RetryBaseDelay = TimeSpan.FromMilliseconds(50),
            };
            kubernetes.Pools["up"] = new PoolScalingOptions { Deployment = "up-servers", Min = 2, Max = 4 };
            kubernetes.Pools["down"] = new PoolScalingOptions { Deployment = "down-servers", Min = 1, Max = 4 };
            silo.UseRedisClustering(redis);
            silo.AddControllerProviders(new ControllerSiloOptions { Storage = StorageKind.Redis, Redis = redis, Kubernetes = kubernetes }, TestSettings.Health());
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
            client.AddMemoryStreams(GrainInterfaces.Streams.ControllerStreams.ProviderName);
            client.Configure<ClientMessagingOptions>(m => m.ResponseTimeout = TimeSpan.FromSeconds(3));
            client.Configure<GatewayOptions>(g => g.GatewayListRefreshPeriod = TimeSpan.FromSeconds(1));
        }
    }
}
