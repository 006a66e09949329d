using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
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
using ConnectionStatus = OrleansControl.GrainInterfaces.Models.ConnectionStatus;

namespace OrleansControl.Benchmarks.Failover.DataPath;

/// <summary>The knobs of the data-path failover benchmark (command-line options of <c>failover-datapath</c>).</summary>
internal sealed record DataPathSettings(int Rate, int EchoMs, int TimeoutMs, int HeartbeatMs, int PollMs, int SteadyMs, int WarmUp);

/// <summary>
/// Everything a trial needs, real: the controller in process (gateway on loopback), three scheme servers as child
/// processes in three zones, the sidecar (<see cref="IsoClient"/> + <see cref="SidecarAgent"/>) attached to the
/// controller, the 0200 load through it and the registry watch. <see cref="RunTrialAsync"/> kills -9 the server the
/// link is on, waits for the data path and the registry to recover, starts the server again and reinstates it.
/// </summary>
internal sealed class DataPathRig : IAsyncDisposable
{
    private const string Pool = "scheme-pool";
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(30);

    private readonly DataPathSettings _settings;
    private readonly WebApplication _app;
    private readonly SchemeServerProcess[] _servers;
    private readonly long[] _killedAt;
    private readonly IServerPoolGrain _pool;
    private readonly IsoClient _link;
    private readonly LinkEvents _events;
    private readonly SidecarAgent _agent;
    private readonly IConnectionGrain _connection;
    private readonly CancellationTokenSource _stop = new();
    private Task _loadTask = Task.CompletedTask;
    private Task _watchTask = Task.CompletedTask;

    private DataPathRig(DataPathSettings settings, WebApplication app, SchemeServerProcess[] servers, IServerPoolGrain pool,
        IsoClient link, SidecarAgent agent, IConnectionGrain connection)
    {
        _settings = settings;
        _app = app;
        _servers = servers;
        _killedAt = new long[servers.Length];
        _pool = pool;
        _link = link;
        _events = new LinkEvents(link);
        _agent = agent;
        _connection = connection;
        Load = new AuthorizationLoad(link, MessageSpec.BuiltIn(IsoWire.DefaultSpec), settings.Rate);
        Watch = new RegistryWatch(connection, link, address =>
            ByAddress(address) is { } s && !s.Alive ? (true, _killedAt[Array.IndexOf(_servers, s)]) : (false, 0L),
            TimeSpan.FromMilliseconds(settings.PollMs));
    }

    public AuthorizationLoad Load { get; }

    public RegistryWatch Watch { get; }

    public static async Task<DataPathRig> StartAsync(DataPathSettings settings)
    {
        var heartbeat = TimeSpan.FromMilliseconds(settings.HeartbeatMs);
        var (app, grpcPort) = await InProcessController.StartAsync(new Dictionary<string, string?>
        {
            ["Controller:Health:HeartbeatInterval"] = heartbeat.ToString(),
            ["Gateway:HeartbeatInterval"] = heartbeat.ToString(),
        });
        var pool = app.Services.GetRequiredService<IClusterClient>().GetGrain<IServerPoolGrain>(Pool);
        var servers = Enumerable.Range(1, 3).Select(i => new SchemeServerProcess($"srv-{i}", InProcessController.FreePort())).ToArray();
        try
        {
            for (var i = 0; i < servers.Length; i++)
            {
                await servers[i].StartAsync(CancellationToken.None);
                await WarmUpAsync(servers[i], settings.WarmUp);
                await pool.AddOrUpdateServer(new ServerDefinition(servers[i].ServerId, servers[i].Address, $"zone-{i + 1}", 10));
            }
        }
        catch
        {
            foreach (var server in servers) await server.DisposeAsync(); // no child process outlives a failed start
            await app.DisposeAsync();
            throw;
        }

        var link = new IsoClient(new IsoClientOptions
        {
            Name = "bank",
            InstitutionId = "12345",
            EchoInterval = TimeSpan.FromMilliseconds(settings.EchoMs),
            EchoTimeout = TimeSpan.FromMilliseconds(settings.TimeoutMs),
            RequestTimeout = TimeSpan.FromMilliseconds(settings.TimeoutMs),
        });
        var agent = new SidecarAgent(link, Options.Create(new SidecarAgentOptions
        {
            Controller = $"http://127.0.0.1:{grpcPort}",
            SidecarId = "bench-sidecar",
            ClientId = "bench-bank",
            ServerPool = Pool,
            PreferredServer = servers[0].ServerId,
            HeartbeatInterval = heartbeat,
        }), NullLogger<SidecarAgent>.Instance);
        var connection = app.Services.GetRequiredService<IClusterClient>().GetGrain<IConnectionGrain>(agent.Status().ConnectionId);
        var rig = new DataPathRig(settings, app, servers, pool, link, agent, connection);
        await agent.StartAsync(CancellationToken.None);
        await Until(async () => link.SignedOnAt is { } at && await rig.IsActiveAt(at), "the link signed on and the registry active there");
        rig._loadTask = Task.Run(() => rig.Load.RunAsync(rig._stop.Token));
        rig._watchTask = Task.Run(() => rig.Watch.RunAsync(rig._stop.Token));
        return rig;
    }

    public async Task<DataPathTrial> RunTrialAsync(int number)
    {
        try
        {
            return await TrialAsync(number);
        }
        catch (TimeoutException)
        {
            await PrintWhereThingsAre();
            throw;
        }
    }

    private async Task<DataPathTrial> TrialAsync(int number)
    {
        // Ready: every server up and usable, the registry agrees with the link, traffic approved where it is.
        await Until(async () => _servers.All(s => s.Alive) && (await _pool.GetSnapshot()).Servers.All(s => !s.Suspect)
            && _link.SignedOnAt is { } at && await IsActiveAt(at) && RecentlyApproved(ByAddress(at)!.ServerId), "ready for a trial");
        var first = Load.Count;
        var startedAt = Stopwatch.GetTimestamp();
        await Task.Delay(_settings.SteadyMs);

        var victim = ByAddress(_link.SignedOnAt!)!;
        var killWall = DateTimeOffset.UtcNow;
        var killAt = victim.Kill();
        _killedAt[Array.IndexOf(_servers, victim)] = killAt;
        var afterKill = Load.Count;
        await victim.WaitForExitAsync();

        var approved = await FirstApprovedElsewhere(afterKill, killAt, victim.ServerId);
        await Until(async () => _link.SignedOnAt is { } at && ByAddress(at) != victim && await IsActiveAt(at), "the registry active on the backup");
        // Let the transactions sent around the failover end (each within its timeout) before the server comes back.
        await Task.Delay(_settings.TimeoutMs + 500);

        var state = await _connection.GetState();
        double? Since(ConnectionStatus to) =>
            state.RecentTransitions.FirstOrDefault(t => t.To == to && t.At >= killWall) is { } t ? (t.At - killWall).TotalMilliseconds : null;
        var trial = new DataPathTrial(number, victim.ServerId, approved?.Server ?? state.ServerId, startedAt, killAt, first)
        {
            LinkDownMs = _events.FirstAfter(killAt, e => e.Current == ConnectionState.Down),
            RegistryFailedMs = Since(ConnectionStatus.Failed),
            RegistryMigratingMs = Since(ConnectionStatus.Migrating),
            // The link heads for the backup only on the controller's command: this splits command delivery from connect + sign-on.
            LinkConnectingToBackupMs = _events.FirstAfter(killAt, e => e.Current == ConnectionState.Connecting && e.Endpoint == state.ServerAddress),
            LinkSignedOnMs = _events.FirstAfter(killAt, e => e.Current == ConnectionState.SignedOn),
            RegistryActiveMs = Since(ConnectionStatus.Active),
            FirstApprovedMs = approved is null ? null : DataPathReport.Ms(killAt, approved.EndedAt),
        };

        await victim.StartAsync(CancellationToken.None);
        await WarmUpAsync(victim, _settings.WarmUp);
        // The kill got the server ejected on evidence; the operator who restarted it says it is healthy again.
        var suspect = (await _pool.GetSnapshot()).Servers.Single(s => s.ServerId == victim.ServerId).Suspect;
        if (suspect)
            await _pool.SetServerHealth(victim.ServerId, ServerHealth.Healthy);
        return trial with { Reinstated = suspect };
    }

    /// <summary>Stops the load and the watch once every transaction has ended.</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await _loadTask;
        await Load.DrainAsync(TimeSpan.FromMilliseconds(_settings.TimeoutMs * 3));
        await _watchTask;
        await _agent.StopAsync(CancellationToken.None);
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

    private SchemeServerProcess? ByAddress(string address) =>
        _servers.FirstOrDefault(s => string.Equals(s.Address, address, StringComparison.OrdinalIgnoreCase));

    private async Task<bool> IsActiveAt(string address)
    {
        var state = await _connection.GetState();
        return state.Status == ConnectionStatus.Active && string.Equals(state.ServerAddress, address, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The last quarter second of ended transactions were all approved by <paramref name="serverId"/>.</summary>
    private bool RecentlyApproved(string serverId)
    {
        var needed = Math.Max(5, _settings.Rate / 4);
        var recent = Load.Since(Math.Max(0, Load.Count - 2 * needed)).Where(t => t.Ended).TakeLast(needed).ToList();
        return recent.Count >= needed && recent.All(t => t.Outcome == TxnOutcome.Approved && t.Server == serverId);
    }

    /// <summary>The first transaction approved by another server than the killed one, ended after the kill.</summary>
    private async Task<Txn?> FirstApprovedElsewhere(int from, long killAt, string killed)
    {
        var until = Stopwatch.GetTimestamp() + (long)(StepTimeout.TotalSeconds * Stopwatch.Frequency);
        // A transaction sent shortly before the kill, queued for a session, can be the first the backup answers.
        from = Math.Max(0, from - _settings.Rate);
        while (Stopwatch.GetTimestamp() < until)
        {
            var first = Load.Since(from).Where(t => t.Outcome == TxnOutcome.Approved && t.Server != killed && t.EndedAt > killAt).MinBy(t => t.EndedAt);
            if (first is not null)
                return first;
            await Task.Delay(5);
        }
        return null;
    }

    private static async Task Until(Func<Task<bool>> condition, string what)
    {
        var until = Stopwatch.GetTimestamp() + (long)(StepTimeout.TotalSeconds * Stopwatch.Frequency);
        while (!await condition())
        {
            if (Stopwatch.GetTimestamp() > until)
                throw new TimeoutException($"timed out after {StepTimeout.TotalSeconds:F0} s waiting for {what}");
            await Task.Delay(10);
        }
    }

    /// <summary>What a stuck trial needs to be understood: the registry, the pool, the link and the agent.</summary>
    private async Task PrintWhereThingsAre()
    {
        var state = await _connection.GetState();
        Console.WriteLine($"registry: {state.Status} on {state.ServerId} ({state.ServerAddress}) v{state.Version}: {state.StatusDetail}; last link {state.LastLink}");
        foreach (var t in state.RecentTransitions.TakeLast(8)) Console.WriteLine($"  {t.At:HH:mm:ss.fff} {t.From} -> {t.To}: {t.Reason}");
        foreach (var f in state.RecentFailovers.TakeLast(3)) Console.WriteLine($"  failover {f}");
        foreach (var s in (await _pool.GetSnapshot()).Servers) Console.WriteLine($"  pool: {s}");
        Console.WriteLine($"link: {_link.State}, signed on at {_link.SignedOnAt ?? "nothing"}, target {_link.Server}");
        var status = _agent.Status();
        Console.WriteLine($"agent: attached {status.ControllerAttached}, last error {status.ControllerError}");
        foreach (var c in status.RecentCommands) Console.WriteLine($"  command {c}");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
            await _stop.CancelAsync();
        _agent.Dispose();
        await _link.DisposeAsync();
        foreach (var server in _servers)
            await server.DisposeAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _stop.Dispose();
    }

    /// <summary>The link's state changes with Stopwatch timestamps (the handler runs on the thread that changed it).</summary>
    private sealed class LinkEvents
    {
        private readonly List<(long At, ConnectionStateChanged Change)> _events = [];
        private readonly Lock _lock = new();

        public LinkEvents(IsoClient link) => link.StateChanged += change =>
        {
            var at = Stopwatch.GetTimestamp();
            lock (_lock) _events.Add((at, change));
        };

        public double? FirstAfter(long since, Func<ConnectionStateChanged, bool> match)
        {
            lock (_lock)
            {
                foreach (var (at, change) in _events)
                {
                    if (at >= since && match(change))
                        return DataPathReport.Ms(since, at);
                }
            }
            return null;
        }
    }
}
