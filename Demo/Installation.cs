using OrleansControl.Demo.Processes;
using OrleansControl.Demo.Regions;

namespace OrleansControl.Demo;

/// <summary>One bank application and its sidecar: the connection they make is {SidecarId}.{ClientId}.</summary>
internal sealed record Bank(string ClientId, SidecarHostProcess Sidecar, BankClientProcess Client)
{
    public string ConnectionId => Sidecar.ConnectionId;
}

/// <summary>
/// Everything the demo runs, each piece its own process on free loopback ports: the controllers (see
/// <see cref="RegionPair"/>: two regions, or one), three scheme ISO 8583
/// servers in two zones declared in one pool (each in its own network namespace when the demo may create them, so one
/// can be black-holed), and two bank applications, each with its sidecar, sending 0200s at a steady rate.
/// <see cref="DisposeAsync"/> stops every process it started, also after a failed start.
/// </summary>
internal sealed class Installation : IAsyncDisposable
{
    public const string Pool = "scheme";
    private static readonly (string Id, string Zone)[] ServerLayout = [("srv-a", "zone-a"), ("srv-b", "zone-a"), ("srv-c", "zone-b")];
    private static readonly (string Sidecar, string Client, string Preferred)[] BankLayout =
        [("sidecar-1", "bank-1", "srv-a"), ("sidecar-2", "bank-2", "srv-c")];

    private readonly List<SchemeServerProcess> _servers = [];
    private readonly List<Bank> _banks = [];
    private readonly List<RedisProcess> _redis = [];
    private KafkaBrokerProcess? _broker;

    private Installation(DemoClock clock, bool namespaces)
    {
        Clock = clock;
        UsesNamespaces = namespaces;
    }

    public DemoClock Clock { get; }

    /// <summary>True: each scheme server runs in its own network namespace (black hole by tc); false: on loopback (SIGSTOP).</summary>
    public bool UsesNamespaces { get; }

    public RegionPair Regions { get; private set; } = null!;

    /// <summary>The bank region's controller: the sidecars' controller, whose registry the demo follows.</summary>
    public ControllerProcess Controller => Regions.Bank;

    public IReadOnlyList<SchemeServerProcess> Servers => _servers;

    public IReadOnlyList<Bank> Banks => _banks;

    public SchemeServerProcess Server(string serverId) => _servers.Single(s => s.ServerId == serverId);

    public static async Task<Installation> StartAsync(DemoOptions options, DemoClock clock, bool namespaces, Action<string> say, CancellationToken ct)
    {
        var installation = new Installation(clock, namespaces);
        try
        {
            await installation.StartCoreAsync(options, say, ct);
            return installation;
        }
        catch
        {
            await installation.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// <c>--backend real</c>: a redis-server per region for clustering, grain state, reminders and the registry hash, and
    /// one Kafka broker both regions publish their events to (the seed's shared bus).
    /// </summary>
    private async Task StartBackendAsync(Action<string> say, CancellationToken ct)
    {
        _broker = await KafkaBrokerProcess.StartAsync(ct);
        say($"Kafka-protocol broker (librdkafka's mock cluster, 3 brokers, topics controller-events, connection-status, " +
            $"failover-commands, health-reports) at {_broker.BootstrapServers} (pid {_broker.Pid})");
        foreach (var controller in Regions.Controllers)
        {
            var redis = await RedisProcess.StartAsync(controller.Region, ct);
            _redis.Add(redis);
            say($"redis-server for {controller.Region} on 127.0.0.1:{redis.Port} (append-only file, fsync every second, in {redis.Folder}; pid {redis.Pid})");
            controller.Set("Controller__Clustering", "redis");
            controller.Set("Controller__Storage", "redis");
            controller.Set("Controller__Redis", redis.Configuration);
            controller.Set("Controller__Streams", "kafka");
            controller.Set("Controller__Kafka__BootstrapServers", _broker.BootstrapServers);
            controller.Set("Controller__Kafka__Region", controller.Region);
        }
    }

    /// <summary>What an operator's configuration declares: every server of the pool (also after a controller restart).</summary>
    public async Task DeclareServersAsync(CancellationToken ct)
    {
        foreach (var server in _servers)
        {
            await Regions.Scheme.Rest.AddServerAsync(Pool, server.ServerId, server.Address, server.Zone, ct);
        }
    }

    /// <summary>Every process it runs now, by name, for the screen and for the end-of-run check.</summary>
    public IEnumerable<(string Name, int Pid)> Processes()
    {
        foreach (var controller in Regions?.Controllers ?? [])
        {
            if (controller.Pid is { } pid)
            {
                yield return ($"controller {controller.Region}", pid);
            }
        }

        foreach (var s in _servers)
        {
            yield return ($"scheme server {s.ServerId}", s.Pid);
        }

        foreach (var b in _banks)
        {
            yield return ($"sidecar {b.Sidecar.SidecarId}", b.Sidecar.Pid);
            yield return ($"bank client {b.ClientId}", b.Client.Pid);
        }

        foreach (var (redis, region) in _redis.Zip(Regions?.Controllers ?? []))
        {
            yield return ($"redis-server {region.Region}", redis.Pid);
        }

        if (_broker is not null)
        {
            yield return ("Kafka broker", _broker.Pid);
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Traffic first, so nothing is in flight towards a server that is already gone; namespaces last.
        foreach (var bank in _banks)
        {
            bank.Client.Dispose();
        }

        foreach (var bank in _banks)
        {
            bank.Sidecar.Dispose();
        }

        Regions?.Dispose();
        foreach (var server in _servers)
        {
            server.Dispose();
        }

        // What the controllers stored in, after them.
        foreach (var redis in _redis)
        {
            redis.Dispose();
        }

        _broker?.Dispose();
        await Task.CompletedTask;
    }

    private async Task StartCoreAsync(DemoOptions options, Action<string> say, CancellationToken ct)
    {
        Regions = options.Regions == 2 ? RegionPair.TwoLinked(RunRecord.PrivateFolder("certs")) : RegionPair.One();
        if (options.RealBackend)
        {
            await StartBackendAsync(say, ct);
        }

        var controllersUp = Regions.Controllers.Select(c => c.StartAsync(ct)).ToList();
        var starting = ServerLayout.Select(s => SchemeServerProcess.StartAsync(s.Id, s.Zone, UsesNamespaces, ct)).ToList();
        try
        {
            await Task.WhenAll(starting.Cast<Task>().Concat(controllersUp));
        }
        finally
        {
            // WhenAll waits for every start: keep each that succeeded, so Dispose stops it whatever failed.
            _servers.AddRange(starting.Where(t => t.IsCompletedSuccessfully).Select(t => t.Result));
        }

        foreach (var c in Regions.Controllers)
        {
            say($"controller {c.Region} up: gRPC {c.GrpcAddress}, REST {c.Rest.BaseAddress} (pid {c.Pid})");
        }

        if (Regions is { Two: true, ToScheme: { } toScheme, ToBank: { } toBank })
        {
            say($"link between the regions: bank -> scheme via 127.0.0.1:{toScheme.Port}, scheme -> bank via 127.0.0.1:{toBank.Port} " +
                $"(mutual TLS; CA and certificates in {Regions.Certificates!.Folder}, deleted at the end)");
        }

        foreach (var s in _servers)
        {
            say($"scheme server {s.ServerId} ({s.Zone}) listening on {s.Address}{(s.Namespace is { } ns ? $" in network namespace {ns.Name}" : "")} (pid {s.Pid})");
        }

        await DeclareServersAsync(ct);
        say($"pool '{Pool}' declared in region {Regions.Scheme.Region}: {string.Join(", ", _servers.Select(s => $"{s.ServerId}@{s.Address}"))}");

        var sidecars = BankLayout.Select(b =>
            SidecarHostProcess.StartAsync(Controller.GrpcAddress, b.Sidecar, b.Client, Pool, b.Preferred, Regions.SidecarCredentials(b.Sidecar), ct)).ToList();
        try
        {
            await Task.WhenAll(sidecars);
        }
        finally
        {
            foreach (var (task, layout) in sidecars.Zip(BankLayout))
            {
                if (task.IsCompletedSuccessfully)
                {
                    var sidecar = task.Result;
                    var client = BankClientProcess.Start(layout.Client, sidecar.RelayPort, options.Rate, () => Clock.Now);
                    _banks.Add(new Bank(layout.Client, sidecar, client));
                }
            }
        }

        foreach (var b in _banks)
        {
            say($"sidecar {b.Sidecar.SidecarId} (relay :{b.Sidecar.RelayPort}, control :{b.Sidecar.ControlPort}, pid {b.Sidecar.Pid}) " +
                $"with bank client {b.ClientId} sending {options.Rate} 0200/s (pid {b.Client.Pid})");
        }
    }
}
