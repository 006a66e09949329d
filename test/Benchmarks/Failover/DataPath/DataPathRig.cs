using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OrleansControl.Benchmarks.Shared;
using OrleansControl.Codec;
using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.Samples.BankClient;
using OrleansControl.Sidecar.Agent;
using OrleansControl.Sidecar.Client;
using OrleansControl.Sidecar.Connections;
using OrleansControl.Sidecar.Health;
using OrleansControl.Sidecar.Reversals;
using ConnectionStatus = OrleansControl.GrainInterfaces.Models.ConnectionStatus;

namespace OrleansControl.Benchmarks.Failover.DataPath;

/// <summary>The fault each trial injects (<c>failover-datapath --scenario</c>).</summary>
internal enum FaultScenario
{
    /// <summary>kill -9 of the server the link is on (the kernel closes its sockets: RST/FIN).</summary>
    Kill,

    /// <summary>The server the link is on falls silent in its network namespace: no RST, no error, nothing.</summary>
    BlackHole,

    /// <summary>The controller is stopped, then the server the link is on is killed; then the controller is started again.</summary>
    ControllerDown,
}

/// <summary>The knobs of the data-path failover benchmark (command-line options of <c>failover-datapath</c>).</summary>
internal sealed record DataPathSettings(
    FaultScenario Scenario, int Rate, int EchoMs, int TimeoutMs, int RequestTimeoutMs, int HeartbeatMs, int PollMs, int SteadyMs, int WarmUp,
    bool Reversals = true);

/// <summary>
/// Everything a trial needs, real: the controller in process (gateway on loopback), three scheme servers as child
/// processes in three zones (on loopback, or each in its own network namespace for the black hole), the sidecar
/// (<see cref="IsoClient"/> + <see cref="SidecarAgent"/>) attached to the controller, the 0200 load through it and the
/// registry watch. A trial (DataPathRig.Kill.cs, .BlackHole.cs, .ControllerDown.cs) faults the server the link is
/// on, waits for the data path and the registry to recover, then brings the server back and reinstates it.
/// </summary>
internal sealed partial class DataPathRig : IAsyncDisposable
{
    private const string Pool = "scheme-pool";
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(30);

    private readonly DataPathSettings _settings;
    private readonly Dictionary<string, string?> _controllerSettings;
    private readonly int _grpcPort;
    private readonly SchemeServerProcess[] _servers;
    private readonly NetworkNamespace[] _namespaces;
    private readonly long[] _faultedAt;
    private readonly IsoClient _link;
    private readonly LinkEvents _events;
    private readonly SidecarAgent _agent;
    private readonly AgentMoveLog _moves;
    private readonly DirectoryInfo _journalDir;
    private readonly string _connectionId;
    private readonly CancellationTokenSource _stop = new();
    private WebApplication? _app; // null while the controller is down
    private Task _loadTask = Task.CompletedTask;
    private Task _watchTask = Task.CompletedTask;

    private DataPathRig(DataPathSettings settings, Dictionary<string, string?> controllerSettings, WebApplication app, int grpcPort,
        SchemeServerProcess[] servers, NetworkNamespace[] namespaces, IsoClient link, SidecarAgent agent, AgentMoveLog moves,
        ReversalLog reversalLog, DirectoryInfo journalDir)
    {
        _settings = settings;
        _controllerSettings = controllerSettings;
        _app = app;
        _grpcPort = grpcPort;
        _servers = servers;
        _namespaces = namespaces;
        _faultedAt = new long[servers.Length];
        _link = link;
        _events = new LinkEvents(link);
        _agent = agent;
        _moves = moves;
        ReversalLog = reversalLog;
        _journalDir = journalDir;
        _connectionId = agent.Status().ConnectionId;
        Load = new AuthorizationLoad(link, MessageSpec.BuiltIn(IsoWire.DefaultSpec), settings.Rate);
        Watch = new RegistryWatch(() => Volatile.Read(ref _app) is null ? null : Connection, link, address =>
            ByAddress(address) is { } s && !s.Alive ? (true, _faultedAt[Array.IndexOf(_servers, s)]) : (false, 0L),
            TimeSpan.FromMilliseconds(settings.PollMs));
        link.Suspected += _ => _events.Add(null);
    }

    public AuthorizationLoad Load { get; }

    public RegistryWatch Watch { get; }

    /// <summary>What became of each reversal, by journal id (the link's own log events).</summary>
    public ReversalLog ReversalLog { get; }

    /// <summary>The link's reversal counters now (<see cref="IsoClient.Reversals"/>).</summary>
    public ReversalStatus? Reversals => _link.Reversals(); // null with --reversals off

    /// <summary>
    /// How long after a fault every reversal it caused must be acknowledged: the fault seen (echo interval + timeout),
    /// the last request written into it timed out (request timeout), and one reversal transmission lost with it
    /// (the reversal's response timeout and first retry delay), plus 5 s for this machine.
    /// </summary>
    public static TimeSpan SettleTimeFor(DataPathSettings settings) => TimeSpan.FromMilliseconds(settings.EchoMs + settings.TimeoutMs + settings.RequestTimeoutMs) +
        Reversal.ResponseTimeout + Reversal.RetryInitialDelay + TimeSpan.FromSeconds(5);

    public TimeSpan SettleTime => SettleTimeFor(_settings);

    /// <summary>The reversal options of the harness's link: the product's defaults, journal in a temporary directory of this run.</summary>
    public static ReversalOptions Reversal { get; } = new() { Enabled = true };

    private IClusterClient Client => (Volatile.Read(ref _app) ?? throw new InvalidOperationException("the controller is down"))
        .Services.GetRequiredService<IClusterClient>();

    private IServerPoolGrain PoolGrain => Client.GetGrain<IServerPoolGrain>(Pool);

    private IConnectionGrain Connection => Client.GetGrain<IConnectionGrain>(_connectionId);

    /// <summary>
    /// Starts the rig. With <paramref name="namespaces"/> (one per server) each server runs inside its own; the rig
    /// owns them from here and deletes them when disposed (also when starting fails).
    /// </summary>
    public static async Task<DataPathRig> StartAsync(DataPathSettings settings, NetworkNamespace[]? namespaces = null)
    {
        namespaces ??= [];
        var heartbeat = TimeSpan.FromMilliseconds(settings.HeartbeatMs);
        var controllerSettings = new Dictionary<string, string?>
        {
            ["Controller:Health:HeartbeatInterval"] = heartbeat.ToString(),
            ["Gateway:HeartbeatInterval"] = heartbeat.ToString(),
        };
        var servers = Enumerable.Range(0, 3).Select(i => namespaces.Length > i
            ? new SchemeServerProcess($"srv-{i + 1}", 20_000 + Random.Shared.Next(0, 40_000), namespaces[i])
            : new SchemeServerProcess($"srv-{i + 1}", InProcessController.FreePort())).ToArray();
        WebApplication? app = null;
        // A fresh journal per run: reversals left by an earlier run (or another engineer's) are not this run's.
        var journalDir = Directory.CreateTempSubdirectory("oc-datapath-reversals-");
        try
        {
            (app, var grpcPort) = await InProcessController.StartAsync(controllerSettings);
            var pool = app.Services.GetRequiredService<IClusterClient>().GetGrain<IServerPoolGrain>(Pool);
            foreach (var server in servers)
            {
                await server.StartAsync(CancellationToken.None);
                await WarmUpAsync(server, settings.WarmUp);
            }

            await DeclareServersAsync(pool, servers);
            var reversalLog = new ReversalLog();
            var link = new IsoClient(new IsoClientOptions
            {
                Name = "bank",
                InstitutionId = "12345",
                EchoInterval = TimeSpan.FromMilliseconds(settings.EchoMs),
                EchoTimeout = TimeSpan.FromMilliseconds(settings.TimeoutMs),
                RequestTimeout = TimeSpan.FromMilliseconds(settings.RequestTimeoutMs),
                Reversals = new ReversalOptions
                {
                    Enabled = settings.Reversals,
                    JournalPath = Path.Combine(journalDir.FullName, "bank.reversals"),
                    ResponseTimeout = Reversal.ResponseTimeout,
                    RetryInitialDelay = Reversal.RetryInitialDelay,
                },
            }, logger: reversalLog);
            var moves = new AgentMoveLog();
            var agent = new SidecarAgent(link, Options.Create(new SidecarAgentOptions
            {
                Controller = $"http://127.0.0.1:{grpcPort}",
                SidecarId = "bench-sidecar",
                ClientId = "bench-bank",
                ServerPool = Pool,
                PreferredServer = servers[0].ServerId,
                HeartbeatInterval = heartbeat,
            }), moves);
            var rig = new DataPathRig(settings, controllerSettings, app, grpcPort, servers, namespaces, link, agent, moves, reversalLog, journalDir);
            await agent.StartAsync(CancellationToken.None);
            await Until(async () => link.SignedOnAt is { } at && await rig.IsActiveAt(at), "the link signed on and the registry active there");
            rig._loadTask = Task.Run(() => rig.Load.RunAsync(rig._stop.Token));
            rig._watchTask = Task.Run(() => rig.Watch.RunAsync(rig._stop.Token));
            return rig;
        }
        catch
        {
            foreach (var server in servers) await server.DisposeAsync(); // no child process outlives a failed start
            foreach (var ns in namespaces) ns.Dispose();
            if (app is not null) await app.DisposeAsync();
            journalDir.Delete(recursive: true);
            throw;
        }
    }

    public async Task<DataPathTrial> RunTrialAsync(int number)
    {
        try
        {
            return _settings.Scenario switch
            {
                FaultScenario.BlackHole => await BlackHoleTrialAsync(number),
                FaultScenario.ControllerDown => await ControllerDownTrialAsync(number),
                _ => await KillTrialAsync(number),
            };
        }
        catch (TimeoutException)
        {
            await PrintWhereThingsAre();
            throw;
        }
    }

    /// <summary>
    /// Waits until a trial can start (every server up and usable, both other servers known to the sidecar as backups,
    /// the registry agreeing with the link, traffic approved where it is), then lets traffic run for the steady period.
    /// Returns the server the link is on (the one to fault), the trial's first transaction, its start and the link's
    /// reversal counters at the start.
    /// </summary>
    private async Task<(SchemeServerProcess Victim, int FirstTxn, long StartedAt, ReversalStatus? Reversals)> ReadyAsync()
    {
        await Until(async () => _servers.All(s => s.Alive) && (await PoolGrain.GetSnapshot()).Servers.All(s => !s.Suspect)
            && _link.SignedOnAt is { } at && await IsActiveAt(at) && RecentlyApproved(ByAddress(at)!.ServerId)
            && _agent.Status().Backups.Count(b => !Same(b.Address, at)) >= _servers.Length - 1, "ready for a trial");
        var first = Load.Count;
        var startedAt = Stopwatch.GetTimestamp();
        var reversals = Reversals;
        await Task.Delay(_settings.SteadyMs);
        return (ByAddress(_link.SignedOnAt!)!, first, startedAt, reversals);
    }

    private void MarkFaulted(SchemeServerProcess victim, long at) => _faultedAt[Array.IndexOf(_servers, victim)] = at;

    /// <summary>Warms the server brought back and, if the fault got it ejected on evidence, reinstates it as its operator would.</summary>
    private async Task<bool> ReinstateAsync(SchemeServerProcess victim)
    {
        await WarmUpAsync(victim, _settings.WarmUp);
        var suspect = (await PoolGrain.GetSnapshot()).Servers.Single(s => s.ServerId == victim.ServerId).Suspect;
        if (suspect)
            await PoolGrain.SetServerHealth(victim.ServerId, ServerHealth.Healthy);
        return suspect;
    }

    /// <summary>Stops the load and the watch once every transaction has ended and every reversal has (within the settle time).</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await _loadTask;
        await Load.DrainAsync(TimeSpan.FromMilliseconds(_settings.RequestTimeoutMs * 3));
        await SettleAsync(0, Stopwatch.GetTimestamp());
        await _watchTask;
        await _agent.StopAsync(CancellationToken.None);
    }

    /// <summary>
    /// Waits until every transaction sent from <paramref name="from"/> up to now has ended, each of unknown fate has
    /// its reversal acknowledged or given up, and the link has no reversal pending, or until <see cref="SettleTime"/>
    /// after <paramref name="faultAt"/>. Returns when it settled (ms after the fault), or null if it did not. (Those
    /// sent later are checked at the end of the run, in the report.)
    /// </summary>
    private async Task<double?> SettleAsync(int from, long faultAt)
    {
        var until = faultAt + (long)(SettleTime.TotalSeconds * Stopwatch.Frequency);
        var upTo = Load.Count;
        while (true)
        {
            var txns = Load.Since(from)[..(upTo - from)];
            if (txns.All(t => t.Ended) && ReversalLog.AllEnded(txns.Where(t => t.ReversalId is not null).Select(t => t.ReversalId!.Value))
                && (Reversals?.Pending ?? 0) == 0)
                return DataPathReport.Ms(faultAt, Stopwatch.GetTimestamp());
            if (Stopwatch.GetTimestamp() > until)
                return null;
            await Task.Delay(20);
        }
    }

    /// <summary>The pool as its operator declares it (at start, and again after a controller restart on memory storage).</summary>
    private static async Task DeclareServersAsync(IServerPoolGrain pool, SchemeServerProcess[] servers)
    {
        for (var i = 0; i < servers.Length; i++)
            await pool.AddOrUpdateServer(new ServerDefinition(servers[i].ServerId, servers[i].Address, $"zone-{i + 1}", 10));
    }

    /// <summary>
    /// A production backup serves other banks and is warm; a process just started is not (its first session and
    /// sign-on are JIT-compiled on the spot, tens of ms). A throwaway link signs on and sends a few 0200s first.
    /// </summary>
    private static async Task WarmUpAsync(SchemeServerProcess server, int transactions)
    {
        if (transactions <= 0)
            return;
        var spec = MessageSpec.BuiltIn(IsoWire.DefaultSpec);
        await using var link = new IsoClient(new IsoClientOptions { Name = "warm-up", InstitutionId = "99999", Server = server.Address });
        link.Start();
        await Until(() => Task.FromResult(link.SignedOnAt is not null), $"a warm-up link signed on at {server.ServerId}");
        var traffic = new AuthorizationTraffic(link, "WARMUP01");
        for (var i = 0; i < transactions; i++)
            await link.SendAsync(traffic.Next(spec, 100));
        await link.DrainAsync(TimeSpan.FromSeconds(1));
    }

    private SchemeServerProcess? ByAddress(string address) => _servers.FirstOrDefault(s => Same(s.Address, address));

    private static bool Same(string a, string? b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);

    private async Task<bool> IsActiveAt(string address)
    {
        var state = await Connection.GetState();
        return state.Status == ConnectionStatus.Active && Same(address, state.ServerAddress);
    }

    private static async Task Until(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var limit = timeout ?? StepTimeout;
        var until = Stopwatch.GetTimestamp() + (long)(limit.TotalSeconds * Stopwatch.Frequency);
        while (!await Holds(condition))
        {
            if (Stopwatch.GetTimestamp() > until)
                throw new TimeoutException($"timed out after {limit.TotalSeconds:F0} s waiting for {what}");
            await Task.Delay(10);
        }
    }

    /// <summary>A condition that asks the controller is false while the controller cannot answer (down, starting, registration lost).</summary>
    private static async Task<bool> Holds(Func<Task<bool>> condition)
    {
        try
        {
            return await condition().WaitAsync(TimeSpan.FromSeconds(2));
        }
        catch (Exception ex) when (ex is TimeoutException or InvalidOperationException or OrleansException or ObjectDisposedException
                                       or GrainInterfaces.Errors.ConnectionNotFoundException)
        {
            return false;
        }
    }

    /// <summary>What a stuck trial needs to be understood: the registry, the pool, the link and the agent.</summary>
    private async Task PrintWhereThingsAre()
    {
        try
        {
            var state = await Connection.GetState();
            Console.WriteLine($"registry: {state.Status} on {state.ServerId} ({state.ServerAddress}) v{state.Version}: {state.StatusDetail}; last link {state.LastLink}");
            foreach (var t in state.RecentTransitions.TakeLast(8)) Console.WriteLine($"  {t.At:HH:mm:ss.fff} {t.From} -> {t.To}: {t.Reason}");
            foreach (var f in state.RecentFailovers.TakeLast(3)) Console.WriteLine($"  failover {f}");
            foreach (var s in (await PoolGrain.GetSnapshot()).Servers) Console.WriteLine($"  pool: {s}");
        }
        catch (Exception ex)
        {
            Console.WriteLine($"registry: not readable ({ex.GetType().Name}: {ex.Message})");
        }
        Console.WriteLine($"link: {_link.State}, signed on at {_link.SignedOnAt ?? "nothing"}, target {_link.Server}");
        var status = _agent.Status();
        Console.WriteLine($"agent: attached {status.ControllerAttached}, last error {status.ControllerError}, backups " +
            $"[{string.Join(", ", status.Backups.Select(b => b.Address))}], last own move {status.LastOwnMove}");
        foreach (var c in status.RecentCommands) Console.WriteLine($"  command {c}");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_stop.IsCancellationRequested)
                await _stop.CancelAsync();
            _agent.Dispose();
            await _link.DisposeAsync();
            foreach (var server in _servers)
                await server.DisposeAsync();
            if (Interlocked.Exchange(ref _app, null) is { } app)
            {
                await app.StopAsync();
                await app.DisposeAsync();
            }
            _stop.Dispose();
        }
        finally
        {
            try
            {
                _journalDir.Delete(recursive: true);
            }
            catch (IOException)
            {
            }

            foreach (var ns in _namespaces) // whatever failed above, no namespace outlives the run
                ns.Dispose();
        }
    }
}
