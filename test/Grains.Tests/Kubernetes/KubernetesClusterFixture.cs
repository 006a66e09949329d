using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.TestingHost;
using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.GrainInterfaces.Streams;
using OrleansControl.Grains.Kubernetes;
using OrleansControl.Grains.Tests.Infrastructure;
using OrleansControl.Silo.Extensions;

namespace OrleansControl.Grains.Tests.Kubernetes;

/// <summary>
/// One silo (memory storage) whose Kubernetes actions talk to a <see cref="FakeKubernetesApi"/> through a kubeconfig
/// file, as a controller acting on another cluster would. Each test uses its own pool, configured here up front.
/// </summary>
public class KubernetesClusterFixture : IAsyncLifetime
{
    private string _dir = null!;

    public FakeKubernetesApi Api { get; private set; } = null!;

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IClusterClient Client => Cluster.Client;

    public LogCollector Logs { get; } = new();

    public static readonly string[] PoolIds = ["min", "failover", "full", "busy", "rotation", "denied", "slow", "idle", "dry"];

    public static string DeploymentOf(string poolId) => $"{poolId}-servers";

    protected virtual bool DryRun => false;

    public async Task InitializeAsync()
    {
        Api = await FakeKubernetesApi.StartAsync();
        _dir = Directory.CreateTempSubdirectory("oc-k8s-silo-").FullName;
        var kubernetes = new KubernetesOptions
        {
            Enabled = true,
            Connection = KubernetesConnection.Kubeconfig,
            KubeconfigPath = Api.WriteKubeconfig(_dir),
            Namespace = FakeKubernetesApi.Namespace,
            DryRun = DryRun,
            ScaleDownDelay = TimeSpan.FromSeconds(1),
            ReadyTimeout = TimeSpan.FromSeconds(10),
            PollInterval = TimeSpan.FromMilliseconds(100),
            EvaluationInterval = TimeSpan.FromMilliseconds(250),
            BackoffAfterFailure = TimeSpan.FromMilliseconds(300),
            RequestTimeout = TimeSpan.FromMilliseconds(300),
            MaxRetries = 2,
            RetryBaseDelay = TimeSpan.FromMilliseconds(20),
        };
        foreach (var pool in PoolIds)
            kubernetes.Pools[pool] = new PoolScalingOptions { Deployment = DeploymentOf(pool), Min = 1, Max = 4 };
        kubernetes.Pools["min"].Min = 2;
        kubernetes.Pools["dry"].Min = 2;
        kubernetes.Pools["full"].Max = 1;
        var options = new ControllerSiloOptions { Kubernetes = kubernetes };
        var validation = new ControllerSiloOptionsValidator().Validate(null, options);
        Assert.True(validation.Succeeded, validation.FailureMessage);

        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddControllerProviders(options, TestSettings.SlowHealth());
            silo.Services.AddSingleton<ILoggerProvider>(Logs);
        });
        builder.ConfigureClient(client => client.AddMemoryStreams(ControllerStreams.ProviderName));
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await Cluster.DisposeAsync();
        await Api.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    public IServerPoolGrain Pool(string poolId) => Client.GetGrain<IServerPoolGrain>(poolId);

    public Task<System.Collections.Immutable.ImmutableArray<ScalingEvent>> Events(string poolId) =>
        Client.GetGrain<IPoolScalerGrain>(poolId).GetEvents();

    /// <summary>What the scheme's registrar does: every Ready pod of the Deployment becomes a server of the pool.</summary>
    public async Task RegisterReadyPodsAsync(string poolId, CancellationToken cancellationToken)
    {
        var registered = new HashSet<string>(StringComparer.Ordinal);
        while (!cancellationToken.IsCancellationRequested)
        {
            foreach (var pod in Api.PodsOf(DeploymentOf(poolId)).Where(p => Api.IsReady(p) && !registered.Contains(p.Name)))
            {
                await Pool(poolId).AddOrUpdateServer(new ServerDefinition(pod.Name, $"{pod.Ip}:5000", "a", 10));
                registered.Add(pod.Name);
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

    public async Task<ScalingEvent> EventAsync(string poolId, Func<ScalingEvent, bool> match, TimeSpan? timeout = null)
    {
        var events = await TestSettings.EventuallyAsync(() => Events(poolId), e => e.Any(match), timeout ?? TimeSpan.FromSeconds(15));
        return Assert.Single(events.Where(match).Take(1));
    }
}

[CollectionDefinition(Name)]
public sealed class KubernetesClusterCollection : ICollectionFixture<KubernetesClusterFixture>
{
    public const string Name = "single silo acting on a fake Kubernetes API";
}

public sealed class DryRunClusterFixture : KubernetesClusterFixture
{
    protected override bool DryRun => true;
}

[CollectionDefinition(Name)]
public sealed class DryRunClusterCollection : ICollectionFixture<DryRunClusterFixture>
{
    public const string Name = "single silo in Kubernetes dry-run";
}

/// <summary>Keeps every log line of the silo (rendered message with its category) for assertions.</summary>
public sealed class LogCollector : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyList<string> Lines => [.. _lines];

    public ILogger CreateLogger(string categoryName) => new Collector(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Collector(LogCollector owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
                owner._lines.Enqueue($"{category} [{eventId.Id}] {formatter(state, exception)}");
        }
    }
}
