using System.Diagnostics;
using OrleansControl.EndToEnd.Tests.Processes;
using OrleansControl.Grains.Tests.Infrastructure;
using Xunit.Abstractions;

namespace OrleansControl.EndToEnd.Tests;

/// <summary>
/// Issue 15's "scheme server kill during a silo's death window", as users run it: three silos on Redis (each with its
/// gateway) as processes, three sidecar hosts with the shipped settings (their own failover to ranked backups on),
/// one per gateway, each relaying a bank application's steady 0200s; kill -9 of the silo that hosts the pool grain,
/// then of srv-a where every link is signed on. Some of the connections' grains and outboxes were on the killed silo
/// (placement is random), so the controller cannot move those before the declaration; the sidecars move on their own.
/// Asserted: every 0200 gets an answer (approved, or declined by the relay: a definite outcome for the bank), every
/// link's traffic is approved by srv-b within a generous bound, and the registry shows every connection ACTIVE at srv-b
/// with its link there once the cluster has declared the silo dead. Exact times are the silo-death benchmark's.
/// </summary>
[Collection(RealProcessesCollection.Name)]
public sealed class DeathWindowServerKillTests(ITestOutputHelper output)
{
    private static readonly TimeSpan ApprovedWithin = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task A_scheme_server_killed_in_the_pool_silos_death_window_leaves_every_0200_answered_and_traffic_approved_on_the_backup()
    {
        await using var redis = await RedisServer.StartAsync();
        var clusterId = $"e2e-dw-{Guid.NewGuid():N}"[..20];
        var clock = Stopwatch.StartNew();
        void Log(string m) => output.WriteLine($"[{clock.Elapsed.TotalSeconds,6:0.000} s] {m}");

        var starting = new[] { "silo-1", "silo-2", "silo-3" }.Select(n => ClusterSiloProcess.StartAsync(n, redis.ConnectionString, clusterId)).ToList();
        var servers = new[] { SchemeServerProcess.StartAsync("srv-a", "zone-a"), SchemeServerProcess.StartAsync("srv-b", "zone-b") };
        await Task.WhenAll(starting.Cast<Task>().Concat(servers));
        var silos = new List<ClusterSiloProcess>();
        foreach (var silo in starting)
            silos.Add(await silo);
        using var srvA = await servers[0];
        using var srvB = await servers[1];
        var sidecars = new List<SidecarHostProcess>();
        var traffic = new List<IsoTraffic>();
        try
        {
            await silos[0].Rest.AddServerAsync(Deployment.Pool, srvA.ServerId, srvA.Address, srvA.Zone);
            await silos[0].Rest.AddServerAsync(Deployment.Pool, srvB.ServerId, srvB.Address, srvB.Zone);
            for (var i = 0; i < 3; i++)
                sidecars.Add(await SidecarHostProcess.StartAsync(silos[i].GrpcAddress, $"sidecar-dw-{i}", $"{Deployment.ClientId}-{i}", Deployment.Pool,
                    preferredServer: "srv-a"));
            string Diagnostics() => string.Join(Environment.NewLine, traffic.Select((t, i) => $"traffic {i}: {t.Summary()}")
                .Concat(silos.Select(s => s.Tail(15))).Concat(sidecars.Select(s => s.Tail(25))));
            foreach (var sidecar in sidecars)
            {
                // Signed on at srv-a and holding its ranked backups (BACKUPS, sent once the registry is ACTIVE): the own failover needs them.
                await Eventually.Until(sidecar.StatusAsync, s => s.ControllerAttached && s.IsSignedOnAt(srvA)
                    && s.RecentCommands.Any(c => c.Kind == "Backups" && c.Success && c.Detail.Contains(srvB.Address, StringComparison.Ordinal)),
                    $"{sidecar.ConnectionId} attached, signed on at srv-a, srv-b its backup", TimeSpan.FromSeconds(60), Diagnostics);
                var bank = new IsoTraffic(sidecar.RelayPort);
                traffic.Add(bank);
                await Eventually.Until(bank.AuthorizeAsync, a => a.Outcome == Outcome.Approved && a.ServerId == "srv-a", $"a 0200 through {sidecar.ConnectionId} approved by srv-a",
                    diagnostics: Diagnostics, poll: TimeSpan.FromMilliseconds(20));
                bank.StartSteady(TimeSpan.FromMilliseconds(20));
            }
            var victim = silos.SingleOrDefault(s => s.Wrote($"Pool {Deployment.Pool}: server srv-a"))
                ?? throw new InvalidOperationException($"no silo logged hosting pool {Deployment.Pool}{Environment.NewLine}{Diagnostics()}");
            var survivor = silos.First(s => s != victim);
            Log($"three silos, three sidecars at srv-a with traffic; the pool is on {victim.Name}");

            victim.Kill();
            srvA.Kill();
            var killedAt = DateTimeOffset.UtcNow;
            var sinceKill = Stopwatch.StartNew();
            Log($"kill -9 {victim.Name}, then srv-a");

            for (var i = 0; i < sidecars.Count; i++)
            {
                var bank = traffic[i];
                await Eventually.Until(() => Task.FromResult(bank.Since(killedAt).Any(a => a.Outcome == Outcome.Approved && a.ServerId == "srv-b")), approved => approved,
                    $"a 0200 through {sidecars[i].ConnectionId} sent after the kill approved by srv-b", ApprovedWithin, Diagnostics, TimeSpan.FromMilliseconds(20));
                Log($"{sidecars[i].ConnectionId}: approved by srv-b {sinceKill.Elapsed.TotalMilliseconds:F0} ms after the kill (or sooner)");
            }

            // The registry catches up: those whose grains were on the killed silo after the declaration, the others sooner.
            foreach (var sidecar in sidecars)
            {
                var (entry, _) = await Eventually.Until(async () => (await survivor.Rest.GetConnectionAsync(sidecar.ConnectionId), await sidecar.StatusAsync()),
                    x => x.Item1 is { Status: "ACTIVE", ServerId: "srv-b" } && x.Item2.IsSignedOnAt(srvB),
                    $"the registry ACTIVE at srv-b for {sidecar.ConnectionId} with its link there", TimeSpan.FromSeconds(40), Diagnostics);
                Log($"{sidecar.ConnectionId}: {entry} at {sinceKill.Elapsed.TotalMilliseconds:F0} ms");
            }
            await Task.Delay(500); // a few more 0200s on srv-b
        }
        finally
        {
            foreach (var bank in traffic)
                await bank.DisposeAsync(); // waits for the 0200s still out
            foreach (var sidecar in sidecars)
                sidecar.Dispose();
            foreach (var silo in silos)
                silo.Dispose();
        }

        // Every 0200 had an answer: approved, or declined by the relay (the link lost it, or none took it in time, and
        // the reversal is queued): never silence, also for the ones in flight at srv-a when it died.
        for (var i = 0; i < traffic.Count; i++)
        {
            output.WriteLine($"traffic {i}: {traffic[i].Summary()}");
            Assert.True(traffic[i].Count(Outcome.NoAnswer) == 0, $"{traffic[i].Count(Outcome.NoAnswer)} 0200s through sidecar {i} had no answer: {traffic[i].Summary()}");
            Assert.Contains(traffic[i].History, a => a.Outcome == Outcome.Approved && a.ServerId == "srv-b");
        }
    }
}
