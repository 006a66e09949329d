using System.Diagnostics;
using System.Net.Http.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OrleansControl.Benchmarks.Failover.DataPath;
using OrleansControl.Benchmarks.Grains;
using OrleansControl.Benchmarks.Shared;
using OrleansControl.Sidecar.Agent;
using OrleansControl.Sidecar.Client;
using OrleansControl.Silo.Extensions;

namespace OrleansControl.Benchmarks.Failover;

/// <summary>
/// kill -9 of the silo that hosts the pool grain, in a three-silo controller on Redis (three Silo processes, each with
/// its gateway), six real sidecar agents (two configured with each gateway, one address each, learning the others) on
/// scheme server srv-a, and srv-a killed right after the silo, inside its death window. Per trial, from the kill:
/// (a) every sidecar attached again, (b) every link signed on at srv-b and the registry ACTIVE there, (c) the
/// membership table saying the silo is dead. A fresh cluster per trial. Without <c>--sidecar-failover</c> the agents run
/// with <see cref="SidecarAgentOptions.BackupFailover"/> off, so (b) times the controller's move alone; with it they
/// run the product's defaults and every link sends 0200s (<see cref="SiloDeathTraffic"/>: what users get).
/// </summary>
public sealed class SiloDeathTool : ILoadTool
{
    internal const string Pool = "scheme";

    public string Name => "silo-death";

    public string Description => "kill -9 the pool grain's silo, a scheme server in its death window: re-attach, failover, declaration (--trials 5 [--sidecar-failover [--rate 50]] [--move-command-timeout-ms 1000] [--probe-timeout-ms 2000] [--missed-probes 2] [--logs DIR])";

    public async Task<int> RunAsync(string[] args)
    {
        var trials = ToolArgs.Int(args, "--trials", 5);
        var logs = ToolArgs.String(args, "--logs", ""); // a trial that times out leaves its silos' and agents' logs there
        var sidecarFailover = args.Contains("--sidecar-failover"); // BackupFailover on (the default) and 0200s on every link
        var rate = ToolArgs.Int(args, "--rate", 50); // 0200s per second per link in --sidecar-failover
        var moveCommandTimeout = TimeSpan.FromMilliseconds(ToolArgs.Int(args, "--move-command-timeout-ms",
            (int)new SidecarAgentOptions().MoveCommandTimeout.TotalMilliseconds)); // how long a sidecar waits for the controller's move
        var membership = Membership(args);
        Console.WriteLine($"silo-death: {Environment.ProcessorCount} cores; Controller:Membership ProbeTimeout {membership.ProbeTimeout.TotalSeconds} s, " +
            $"NumMissedProbesLimit {membership.NumMissedProbesLimit}, NumVotesForDeathDeclaration {membership.NumVotesForDeathDeclaration}, " +
            $"NumProbedSilos {membership.NumProbedSilos}, TableRefreshTimeout {membership.TableRefreshTimeout.TotalSeconds} s; " +
            $"Controller:Health:PoolCallDeadline {new OrleansControl.Grains.Connections.ConnectionHealthOptions().PoolCallDeadline.TotalMilliseconds} ms; " +
            (sidecarFailover ? $"sidecar failover ON (MoveCommandTimeout {moveCommandTimeout.TotalMilliseconds} ms), {rate} 0200/s per link" : "sidecar failover OFF (the controller's move alone)"));
        await using var redis = await BenchRedis.StartAsync(null);
        var (attach, first, moved, declared) = (new List<double>(), new List<double>(), new List<double>(), new List<double>());
        var (approved, approvedLast, right, rightLast, unknown) = (new List<double>(), new List<double>(), new List<double>(), new List<double>(), new List<double>());
        var staleOverOneSecond = 0;
        for (var trial = 1; trial <= trials; trial++)
        {
            var mode = new TrialMode(sidecarFailover, rate, logs, MembershipSettings(membership), moveCommandTimeout);
            var result = await TrialAsync(redis, trial, mode).ContinueWith(t => t.IsFaulted && t.Exception!.GetBaseException().Message.Contains(" exited: ")
                ? TrialAsync(redis, trial, mode) // a port taken between the probe and the bind by another process: once more
                : t).Unwrap();
            Console.WriteLine($"trial {trial}: re-attached {result.Attach:F0} ms, first ACTIVE at srv-b {result.First:F0} ms, all moved {result.Moved:F0} ms, declared dead {result.Declared:F0} ms" +
                $" ({result.Detail})");
            attach.Add(result.Attach);
            first.Add(result.First);
            moved.Add(result.Moved);
            declared.Add(result.Declared);
            if (result.Traffic is { } traffic)
            {
                var (atKill, after, total) = traffic.Indefinite;
                Console.WriteLine($"  (b1) first approval after the kill, per link: {string.Join(", ", traffic.FirstApprovalMs.Select(m => $"{m:F0}"))} ms; " +
                    $"without a definite outcome: {total} ({atKill} in flight at the kill, {after} sent after it); after the kill: {traffic.OutcomesAfterKill}");
                Console.WriteLine($"  (b2) registry ACTIVE where the link is, per connection: {string.Join(", ", traffic.RegistryRightMs.Select(m => $"{m:F0}"))} ms; " +
                    $"last read ACTIVE at the killed srv-a: {string.Join(", ", traffic.RegistryStaleMs.Select(m => $"{m:F0}"))} ms");
                approved.Add(traffic.FirstApprovalMs.Min());
                approvedLast.Add(traffic.FirstApprovalMs.Max());
                right.Add(traffic.RegistryRightMs.Min());
                rightLast.Add(traffic.RegistryRightMs.Max());
                unknown.Add(total);
                staleOverOneSecond += traffic.RegistryStaleMs.Count(m => m > 1000);
            }
        }
        Console.WriteLine($"(a) every sidecar re-attached:        {Summary(attach)}");
        Console.WriteLine($"(b) first connection ACTIVE at srv-b: {Summary(first)}");
        Console.WriteLine($"    every link at srv-b, registry ACTIVE: {Summary(moved)}");
        Console.WriteLine($"(c) silo declared dead in the table:  {Summary(declared)}");
        if (sidecarFailover)
        {
            Console.WriteLine($"(b1) first link approved after the kill: {Summary(approved)}; last link: {Summary(approvedLast)}");
            Console.WriteLine($"(b2) registry right, first connection:   {Summary(right)}; last: {Summary(rightLast)}");
            Console.WriteLine($"     transactions without a definite outcome per trial: {Summary(unknown, "")}; connections ACTIVE at the killed server > 1 s after the kill: {staleOverOneSecond}");
        }
        return 0;
    }

    private sealed record TrialMode(bool SidecarFailover, int Rate, string Logs, IReadOnlyDictionary<string, string> Silo, TimeSpan MoveCommandTimeout);

    /// <summary>The shipped <c>Controller:Membership</c> settings, with <c>--probe-timeout-ms</c> and <c>--missed-probes</c> instead where given.</summary>
    internal static MembershipTuningOptions Membership(string[] args)
    {
        var shipped = new MembershipTuningOptions();
        shipped.ProbeTimeout = TimeSpan.FromMilliseconds(ToolArgs.Int(args, "--probe-timeout-ms", (int)shipped.ProbeTimeout.TotalMilliseconds));
        shipped.NumMissedProbesLimit = ToolArgs.Int(args, "--missed-probes", shipped.NumMissedProbesLimit);
        if (shipped.FindProblem() is { } problem)
            throw new ArgumentException($"Controller:Membership:{problem}");
        return shipped;
    }

    /// <summary>The settings as the silo processes' environment.</summary>
    internal static IReadOnlyDictionary<string, string> MembershipSettings(MembershipTuningOptions m) => new Dictionary<string, string>
    {
        ["Controller__Membership__ProbeTimeout"] = m.ProbeTimeout.ToString(),
        ["Controller__Membership__NumMissedProbesLimit"] = m.NumMissedProbesLimit.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    private sealed record TrialResult(double Attach, double First, double Moved, double Declared, string Detail, SiloDeathTraffic? Traffic);

    private static string Summary(List<double> values, string unit = " ms")
    {
        var sorted = values.Order().ToList();
        return $"n={sorted.Count} min {sorted[0]:F0}{unit}, median {sorted[sorted.Count / 2]:F0}{unit}, max {sorted[^1]:F0}{unit}";
    }

    private static async Task<TrialResult> TrialAsync(BenchRedis redis, int trial, TrialMode mode)
    {
        var logs = mode.Logs;
        SiloDeathTraffic? traffic = null;
        var clusterId = $"silo-death-{trial}-{Guid.NewGuid():N}"[..24];
        var silos = new List<SiloProcess>();
        var agents = new List<(SidecarAgent Agent, IsoClient Link, string Gateway)>();
        var agentLogs = new List<LinesLogger>();
        await using var srvA = new SchemeServerProcess("srv-a", BenchPorts.FreePort());
        await using var srvB = new SchemeServerProcess("srv-b", BenchPorts.FreePort());
        try
        {
            for (var i = 0; i < 3; i++)
                silos.Add(SiloProcess.Start($"silo-{i + 1}", redis.ConnectionString, clusterId, mode.Silo));
            await Task.WhenAll(silos.Select(s => s.ReadyAsync()).Append(srvA.StartAsync(CancellationToken.None)).Append(srvB.StartAsync(CancellationToken.None)));
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            foreach (var (id, address, zone) in new[] { ("srv-a", srvA.Address, "zone-a"), ("srv-b", srvB.Address, "zone-b") })
            {
                using var response = await http.PostAsJsonAsync($"{silos[0].Rest}/api/v1/pools/{Pool}/servers",
                    new { server = new { serverId = id, address, zone, capacity = 100 } });
                response.EnsureSuccessStatusCode();
            }
            for (var i = 0; i < 6; i++)
            {
                var gateway = silos[i % 3].Grpc;
                var (agent, link) = NewAgent(i, gateway, mode.SidecarFailover, AgentLogger(logs, agentLogs), mode.MoveCommandTimeout); // off: the controller's move is what is measured
                await agent.StartAsync(CancellationToken.None);
                agents.Add((agent, link, gateway));
            }
            await Until(() => agents.All(a => a.Agent.Attached && a.Link.SignedOnAt == srvA.Address && a.Agent.Status().LearnedGateways.Count == 3),
                TimeSpan.FromSeconds(60), "every sidecar attached, signed on at srv-a, three gateways learned");
            await Task.Delay(1500); // the replicas have copied the pool
            if (mode.SidecarFailover)
            {
                traffic = new SiloDeathTraffic([.. agents.Select(a => (a.Link, a.Agent.Status().ConnectionId))],
                    new Dictionary<string, string> { [srvA.Address] = "srv-a", [srvB.Address] = "srv-b" }, "srv-a", mode.Rate);
                traffic.Start();
                await Until(() => agents.All(a => a.Agent.Status().Backups.Any(b => b.ServerId == "srv-b")), TimeSpan.FromSeconds(30), "every agent knowing srv-b as a backup");
                await Task.Delay(1000); // steady traffic before the kill
            }

            var victim = silos.FirstOrDefault(s => s.Wrote($"Pool {Pool}: server srv-a"))
                ?? throw new InvalidOperationException("no silo logged hosting the pool");
            var survivor = silos.First(s => s != victim);
            var gatewayDied = agents.Select(a => a.Agent.Status().Controller == victim.Grpc).ToArray();
            var grainOnVictim = await Task.WhenAll(agents.Select(a => HostedOnAsync(http, survivor, a.Agent, victim.SiloPort)));
            var clock = Stopwatch.StartNew();
            victim.Kill();
            var killedAt = srvA.Kill();
            traffic?.Killed(killedAt, http, survivor.Rest);
            var trafficTask = traffic is null ? Task.FromResult(0.0) : UntilAsync(() => traffic.Recovered, clock);
            var attachTask = UntilAsync(() => agents.All(a => a.Agent.Attached && a.Agent.Status().Controller != victim.Grpc), clock);
            // One loop per connection: a read that waits for the declaration (its grain was on the dead silo) holds up only its own.
            var perConnection = agents.Select(a => ConnectionMovedAsync(http, survivor, a.Agent, a.Link, srvB.Address, clock)).ToArray();
            var movedTask = Each(perConnection, moves => moves.Max(c => c.Moved));
            var firstTask = Each(perConnection, moves => moves.Min(c => c.Registry));
            var declaredTask = UntilAsync(() => DeclaredDeadAsync(redis, clusterId, victim.SiloPort), clock);
            try
            {
                await Task.WhenAll(attachTask, firstTask, movedTask, declaredTask, trafficTask);
            }
            catch (TimeoutException)
            {
                var registry = await Task.WhenAll(agents.Select(a => RegistryAsync(http, survivor, a.Agent)));
                var rows = await redis.Multiplexer.GetDatabase().HashGetAllAsync($"{clusterId}/members/{clusterId}");
                if (logs.Length > 0)
                    await WriteLogsAsync(logs, trial, http, survivor, silos, agents.Select(a => a.Agent).ToList(), agentLogs);
                throw new TimeoutException($"attached {attachTask.IsCompletedSuccessfully}, moved {movedTask.IsCompletedSuccessfully}, traffic {trafficTask.IsCompletedSuccessfully}, declared " +
                    $"{declaredTask.IsCompletedSuccessfully}; links {string.Join(",", agents.Select(a => a.Link.SignedOnAt))}; registry " +
                    $"{string.Join(",", registry)}; members {string.Join(" | ", rows.Select(r => $"{r.Name}={r.Value}"))[..Math.Min(1500, rows.Sum(r => r.Value.ToString().Length))]}");
            }
            if (traffic is not null)
            {
                await Task.Delay(500); // the registry reads go on a little: a late flip back to srv-a would show
                await traffic.StopAsync();
            }
            if (logs.Length > 0)
                await WriteLogsAsync(logs, trial, http, survivor, silos, agents.Select(a => a.Agent).ToList(), agentLogs);
            var moves = await Task.WhenAll(perConnection);
            var declaredMs = await declaredTask;
            var each = string.Join(", ", moves.Select((m, i) => $"{m.Registry:F0}{Placement(agents[i].Agent, victim, silos, grainOnVictim[i], gatewayDied[i])}"));
            return new TrialResult(await attachTask, await firstTask, await movedTask, declaredMs,
                $"pool on {victim.Name}; per connection ACTIVE at srv-b ({PlacementKey}): {each} ms; " +
                $"before the declaration: {moves.Count(m => m.Registry < declaredMs)} of {moves.Length}", traffic);
        }
        finally
        {
            if (traffic is not null)
                await traffic.StopAsync();
            foreach (var (agent, link, _) in agents)
            {
                await agent.StopAsync(CancellationToken.None);
                agent.Dispose();
                await link.DisposeAsync();
            }
            foreach (var silo in silos)
                silo.Dispose();
        }
    }

    private static async Task WriteLogsAsync(string dir, int trial, HttpClient http, SiloProcess survivor, List<SiloProcess> silos,
        List<SidecarAgent> agents, List<LinesLogger> agentLogs)
    {
        Directory.CreateDirectory(dir);
        foreach (var silo in silos)
            await File.WriteAllLinesAsync(Path.Combine(dir, $"trial-{trial}-{silo.Name}.log"), silo.Lines);
        for (var i = 0; i < agents.Count; i++)
        {
            var status = agents[i].Status();
            string entry;
            try
            {
                entry = await http.GetStringAsync($"{survivor.Rest}/api/v1/connections/{status.ConnectionId}");
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                entry = ex.Message;
            }
            await File.WriteAllLinesAsync(Path.Combine(dir, $"trial-{trial}-agent-{i}.log"), agentLogs.Count > i ? agentLogs[i].Lines : [],
                CancellationToken.None);
            await File.AppendAllTextAsync(Path.Combine(dir, $"trial-{trial}-agent-{i}.log"),
                $"status: {System.Text.Json.JsonSerializer.Serialize(status)}\nregistry: {entry}\n");
        }
        Console.WriteLine($"trial {trial}: logs in {dir}");
    }

    /// <summary>Sidecar <paramref name="i"/>: an <see cref="IsoClient"/> for pool "scheme" preferring srv-a, its agent configured with one gateway.</summary>
    internal static (SidecarAgent Agent, IsoClient Link) NewAgent(int i, string gateway, bool backupFailover, ILogger<SidecarAgent> logger,
        TimeSpan? moveCommandTimeout = null)
    {
        var link = new IsoClient(new IsoClientOptions
        {
            Name = $"bench-{i}",
            Server = "",
            InstitutionId = "12345",
            RequestTimeout = TimeSpan.FromSeconds(5),
            EchoInterval = TimeSpan.FromSeconds(1),
            EchoTimeout = TimeSpan.FromMilliseconds(500),
            ReconnectInitialDelay = TimeSpan.FromMilliseconds(50),
            ReconnectMaxDelay = TimeSpan.FromMilliseconds(500),
        });
        var agent = new SidecarAgent(link, Options.Create(new SidecarAgentOptions
        {
            Controller = gateway,
            SidecarId = $"bench-sidecar-{i}",
            ClientId = $"bank-{i}",
            ServerPool = Pool,
            PreferredServer = "srv-a",
            HeartbeatInterval = TimeSpan.FromSeconds(1),
            RetryInitialDelay = TimeSpan.FromMilliseconds(100),
            RetryMaxDelay = TimeSpan.FromMilliseconds(500),
            BackupFailover = backupFailover,
            MoveCommandTimeout = moveCommandTimeout ?? new SidecarAgentOptions().MoveCommandTimeout,
        }), logger);
        return (agent, link);
    }

    private static ILogger<SidecarAgent> AgentLogger(string logs, List<LinesLogger> kept)
    {
        if (logs.Length == 0)
            return NullLogger<SidecarAgent>.Instance;
        var logger = new LinesLogger();
        kept.Add(logger);
        return logger;
    }

    /// <summary>An agent's log lines, timestamped, kept in memory for a trial that goes wrong.</summary>
    private sealed class LinesLogger : ILogger<SidecarAgent>
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> _lines = new();

        public IEnumerable<string> Lines => _lines;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            _lines.Enqueue($"{DateTimeOffset.UtcNow:HH:mm:ss.fff} {logLevel} {formatter(state, exception)}{(exception is null ? "" : " " + exception.Message)}");
    }

    /// <summary>
    /// From the kill: when a survivor's registry first said ACTIVE at the target, and when it did while the link was
    /// signed on there (read before and after the registry).
    /// </summary>
    private static async Task<(double Registry, double Moved)> ConnectionMovedAsync(HttpClient http, SiloProcess survivor, SidecarAgent agent, IsoClient link,
        string target, Stopwatch clock)
    {
        double? registry = null;
        while (true)
        {
            var before = link.SignedOnAt;
            var entry = await RegistryAsync(http, survivor, agent);
            if (entry == "ACTIVE@srv-b")
            {
                registry ??= clock.Elapsed.TotalMilliseconds;
                if (before == target && link.SignedOnAt == target)
                    return (registry.Value, clock.Elapsed.TotalMilliseconds);
            }
            if (clock.Elapsed > TimeSpan.FromSeconds(90))
                throw new TimeoutException("not within 90 s of the kill");
            await Task.Delay(10);
        }
    }

    private static async Task<double> Each(Task<(double Registry, double Moved)>[] connections, Func<(double Registry, double Moved)[], double> pick) =>
        pick(await Task.WhenAll(connections));

    private const string PlacementKey = "c: its connection grain was on the killed silo, o: its sidecar's outbox was, " +
        "d: a survivor re-activated the connection for a directory partition the killed silo owned, g: its sidecar's gateway was the killed silo's";

    /// <summary>
    /// What of a connection was on the killed silo: its grain from the registry's <c>hostSilo</c> before the kill, the
    /// rest from the silos' own log lines (an outbox logs where it activates; a directory failure where it happens).
    /// </summary>
    private static string Placement(SidecarAgent agent, SiloProcess victim, List<SiloProcess> silos, bool grainOnVictim, bool gatewayDied)
    {
        var status = agent.Status();
        var marks = (grainOnVictim ? "c" : "")
            + (victim.Wrote($"Sidecar {status.SidecarId}: outbox activated on silo") ? "o" : "")
            + (silos.Where(s => s != victim).Any(s => s.Lines.Any(l => l.Contains($"Connection {status.ConnectionId} deactivated on silo", StringComparison.Ordinal)
                && l.Contains("DirectoryFailure", StringComparison.Ordinal))) ? "d" : "")
            + (gatewayDied ? "g" : "");
        return marks.Length == 0 ? "" : $" {marks}";
    }

    /// <summary>The registry's <c>hostSilo</c> of the connection names the silo on <paramref name="siloPort"/>.</summary>
    private static async Task<bool> HostedOnAsync(HttpClient http, SiloProcess silo, SidecarAgent agent, int siloPort)
    {
        var entry = await http.GetFromJsonAsync<System.Text.Json.JsonElement>($"{silo.Rest}/api/v1/connections/{agent.Status().ConnectionId}");
        return entry.TryGetProperty("hostSilo", out var host) && host.GetString() is { } h && h.Contains($":{siloPort}:", StringComparison.Ordinal);
    }

    private static async Task<string> RegistryAsync(HttpClient http, SiloProcess silo, SidecarAgent agent)
    {
        try
        {
            var entry = await http.GetFromJsonAsync<System.Text.Json.JsonElement>($"{silo.Rest}/api/v1/connections/{agent.Status().ConnectionId}");
            return $"{entry.GetProperty("status").GetString()?.Replace("CONNECTION_STATUS_", "")}@{entry.GetProperty("serverId").GetString()}";
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return "?";
        }
    }

    /// <summary>Orleans' Redis membership row of the silo says Dead (SiloStatus 6).</summary>
    private static async Task<bool> DeclaredDeadAsync(BenchRedis redis, string clusterId, int siloPort)
    {
        var rows = await redis.Multiplexer.GetDatabase().HashGetAllAsync($"{clusterId}/members/{clusterId}");
        return rows.Any(r => r.Name.ToString().Contains($":{siloPort}:", StringComparison.Ordinal)
            && (r.Value.ToString().Contains("\"Status\":6", StringComparison.Ordinal) || r.Value.ToString().Contains("\"Status\":\"Dead\"", StringComparison.Ordinal)));
    }

    private static Task<double> UntilAsync(Func<bool> done, Stopwatch clock) => UntilAsync(() => Task.FromResult(done()), clock);

    private static async Task<double> UntilAsync(Func<Task<bool>> done, Stopwatch clock)
    {
        while (!await done())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(90))
                throw new TimeoutException("not within 90 s of the kill");
            await Task.Delay(10);
        }
        return clock.Elapsed.TotalMilliseconds;
    }

    private static async Task Until(Func<bool> done, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!done())
        {
            if (clock.Elapsed > timeout)
                throw new TimeoutException($"not within {timeout.TotalSeconds} s: {what}");
            await Task.Delay(50);
        }
    }
}
