using System.Diagnostics;
using System.Net.Http.Json;
using Microsoft.Extensions.Logging.Abstractions;
using OrleansControl.Benchmarks.Failover.DataPath;
using OrleansControl.Benchmarks.Grains;
using OrleansControl.Benchmarks.Shared;
using OrleansControl.Codec;
using OrleansControl.Sidecar.Agent;
using OrleansControl.Sidecar.Client;
using OrleansControl.Sidecar.Connections;

namespace OrleansControl.Benchmarks.Failover;

/// <summary>
/// The price of faster death detection: the three-silo cluster of <c>silo-death</c> (three Silo processes on Redis,
/// six sidecar agents, one scheme server) left running for <c>--minutes</c> with nothing killed, idle (heartbeats
/// only) or <c>--loaded</c> (every link sending 0200s, the registry read from REST), with the membership settings
/// given. Counts what would be false: probes missed, suspicion votes, silos declared dead (from the silos' logs and
/// the Redis membership table), and with load the transactions that did not end approved.
/// </summary>
public sealed class MembershipSoakTool : ILoadTool
{
    public string Name => "membership-soak";

    public string Description => "three live silos for N minutes: false probe misses, suspicions, declarations (--minutes 5 [--loaded [--rate 50]] [--burn THREADS] [--probe-timeout-ms 2000] [--missed-probes 2])";

    public async Task<int> RunAsync(string[] args)
    {
        var minutes = ToolArgs.Int(args, "--minutes", 5);
        var loaded = args.Contains("--loaded");
        var rate = ToolArgs.Int(args, "--rate", 50);
        var burn = ToolArgs.Int(args, "--burn", 0); // threads that spin for the whole soak: the silos starved of CPU
        var membership = SiloDeathTool.Membership(args);
        Console.WriteLine($"membership-soak: {minutes} min, {(loaded ? $"loaded ({rate} 0200/s on each of 6 links, registry read every 100 ms)" : "idle (heartbeats only)")}{(burn > 0 ? $", {burn} threads spinning" : "")}; " +
            $"ProbeTimeout {membership.ProbeTimeout.TotalMilliseconds} ms, NumMissedProbesLimit {membership.NumMissedProbesLimit}, " +
            $"NumVotesForDeathDeclaration {membership.NumVotesForDeathDeclaration}, NumProbedSilos {membership.NumProbedSilos}; load {Load()}");
        await using var redis = await BenchRedis.StartAsync(null);
        var clusterId = $"soak-{Guid.NewGuid():N}"[..20];
        var silos = new List<SiloProcess>();
        var agents = new List<(SidecarAgent Agent, IsoClient Link)>();
        await using var srvA = new SchemeServerProcess("srv-a", BenchPorts.FreePort());
        using var stop = new CancellationTokenSource();
        var loads = new List<AuthorizationLoad>();
        var running = new List<Task>();
        try
        {
            for (var i = 0; i < 3; i++)
                silos.Add(SiloProcess.Start($"silo-{i + 1}", redis.ConnectionString, clusterId, SiloDeathTool.MembershipSettings(membership)));
            await Task.WhenAll(silos.Select(s => s.ReadyAsync()).Append(srvA.StartAsync(CancellationToken.None)));
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            using (var response = await http.PostAsJsonAsync($"{silos[0].Rest}/api/v1/pools/{SiloDeathTool.Pool}/servers",
                new { server = new { serverId = "srv-a", address = srvA.Address, zone = "zone-a", capacity = 100 } }))
                response.EnsureSuccessStatusCode();
            for (var i = 0; i < 6; i++)
            {
                var (agent, link) = SiloDeathTool.NewAgent(i, silos[i % 3].Grpc, backupFailover: true, NullLogger<SidecarAgent>.Instance);
                await agent.StartAsync(CancellationToken.None);
                agents.Add((agent, link));
            }
            var clock = Stopwatch.StartNew();
            while (!agents.All(a => a.Agent.Attached && a.Link.SignedOnAt == srvA.Address))
            {
                if (clock.Elapsed > TimeSpan.FromSeconds(60))
                    throw new TimeoutException("not every sidecar attached and signed on within 60 s");
                await Task.Delay(100);
            }
            var before = Counts(silos);
            if (loaded)
            {
                foreach (var (_, link) in agents)
                {
                    var load = new AuthorizationLoad(link, MessageSpec.BuiltIn(IsoWire.DefaultSpec), rate);
                    loads.Add(load);
                    running.Add(Task.Run(() => load.RunAsync(stop.Token)));
                }
                running.Add(Task.Run(() => ReadRegistryAsync(http, silos[0], agents.Select(a => a.Agent.Status().ConnectionId).ToList(), stop.Token)));
            }
            for (var i = 0; i < burn; i++)
                running.Add(Task.Factory.StartNew(() => Spin(stop.Token), TaskCreationOptions.LongRunning));
            Console.WriteLine($"soaking from {DateTimeOffset.UtcNow:HH:mm:ss} UTC");
            var exited = 0;
            clock.Restart();
            while (clock.Elapsed < TimeSpan.FromMinutes(minutes))
            {
                await Task.Delay(TimeSpan.FromSeconds(1));
                exited = silos.Count(s => s.Exited);
            }
            await stop.CancelAsync();
            await Task.WhenAll(running);
            await Task.WhenAll(loads.Select(l => l.DrainAsync(TimeSpan.FromSeconds(12))));
            var after = Counts(silos);
            var dead = await DeadRowsAsync(redis, clusterId);
            var txns = loads.SelectMany(l => l.Since(0)).ToList();
            Console.WriteLine($"after {minutes} min (load {Load()}): probes missed {after.Missed - before.Missed}, suspicion votes {after.Votes - before.Votes}, " +
                $"evictions {after.Evictions - before.Evictions}, rows Dead in the table {dead}, silo processes exited {exited}" +
                (loaded ? $"; {txns.Count} 0200s: {string.Join(", ", txns.GroupBy(t => t.Outcome).OrderBy(g => g.Key).Select(g => $"{g.Key} {g.Count()}"))}" : ""));
            return 0;
        }
        finally
        {
            await stop.CancelAsync();
            foreach (var (agent, link) in agents)
            {
                await agent.StopAsync(CancellationToken.None);
                agent.Dispose();
                await link.DisposeAsync();
            }
            foreach (var silo in silos)
                silo.Dispose();
        }
    }

    private static void Spin(CancellationToken ct)
    {
        var x = 0UL;
        while (!ct.IsCancellationRequested)
            x = x * 6364136223846793005UL + 1442695040888963407UL;
        GC.KeepAlive(x);
    }

    private static string Load() => File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";

    /// <summary>Orleans' own lines in the silos' logs: a missed probe, a suspicion vote, an eviction (declaration).</summary>
    private static (int Missed, int Votes, int Evictions) Counts(List<SiloProcess> silos)
    {
        var lines = silos.SelectMany(s => s.Lines).ToList();
        return (lines.Count(l => l.Contains("Did not get response for probe", StringComparison.Ordinal)),
            lines.Count(l => l.Contains("Putting my vote to mark silo", StringComparison.Ordinal)),
            lines.Count(l => l.Contains("Evicting '", StringComparison.Ordinal)));
    }

    private static async Task<int> DeadRowsAsync(BenchRedis redis, string clusterId)
    {
        var rows = await redis.Multiplexer.GetDatabase().HashGetAllAsync($"{clusterId}/members/{clusterId}");
        return rows.Count(r => r.Value.ToString().Contains("\"Status\":6", StringComparison.Ordinal) || r.Value.ToString().Contains("\"Status\":\"Dead\"", StringComparison.Ordinal));
    }

    private static async Task ReadRegistryAsync(HttpClient http, SiloProcess silo, List<string> connections, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await Task.WhenAll(connections.Select(c => http.GetStringAsync($"{silo.Rest}/api/v1/connections/{c}", ct)));
                await Task.Delay(100, ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (HttpRequestException)
            {
            }
        }
    }
}
