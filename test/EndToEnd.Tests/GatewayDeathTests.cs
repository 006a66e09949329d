using System.Diagnostics;
using OrleansControl.EndToEnd.Tests.Processes;
using OrleansControl.Grains.Tests.Infrastructure;
using Xunit.Abstractions;

namespace OrleansControl.EndToEnd.Tests;

/// <summary>
/// Two silos on Redis, each with its gateway, as processes; a sidecar configured with ONE gateway. It learns the other
/// from the gateway (Attached.gateways, GatewayList); when the silo behind its gateway is killed with kill -9 it
/// re-attaches to the other at once, and the next failover goes through it, each command run once.
/// </summary>
[Collection(RealProcessesCollection.Name)]
public sealed class GatewayDeathTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_sidecar_configured_with_one_gateway_reattaches_to_a_learned_one_when_that_silo_is_killed()
    {
        await using var redis = await RedisServer.StartAsync();
        var clusterId = $"e2e-gw-{Guid.NewGuid():N}"[..20];
        var clock = Stopwatch.StartNew();
        void Log(string m) => output.WriteLine($"[{clock.Elapsed.TotalSeconds,6:0.000} s] {m}");

        var starting = new[] { "silo-1", "silo-2" }.Select(n => ClusterSiloProcess.StartAsync(n, redis.ConnectionString, clusterId)).ToList();
        var servers = new[] { SchemeServerProcess.StartAsync("srv-a", "zone-a"), SchemeServerProcess.StartAsync("srv-b", "zone-b") };
        await Task.WhenAll(starting.Cast<Task>().Concat(servers));
        using var first = await starting[0];
        using var second = await starting[1];
        using var srvA = await servers[0];
        using var srvB = await servers[1];
        await first.Rest.AddServerAsync(Deployment.Pool, srvA.ServerId, srvA.Address, srvA.Zone);
        await first.Rest.AddServerAsync(Deployment.Pool, srvB.ServerId, srvB.Address, srvB.Zone);
        Log("two silos and two scheme servers up");

        using var sidecar = await SidecarHostProcess.StartAsync(first.GrpcAddress, "sidecar-gw", Deployment.ClientId, Deployment.Pool, preferredServer: "srv-a");
        await using var traffic = new IsoTraffic(sidecar.RelayPort);
        string Diagnostics() => string.Join(Environment.NewLine, $"traffic: {traffic.Summary()}", first.Tail(20), second.Tail(30), sidecar.Tail(40));
        var learned = await Eventually.Until(sidecar.StatusAsync,
            s => s.ControllerAttached && s.IsSignedOnAt(srvA) && s.LearnedGateways!.Contains(second.GrpcAddress),
            $"attached through {first.Name}, signed on at srv-a, and {second.Name}'s gateway learned", TimeSpan.FromSeconds(40), Diagnostics);
        Log($"learned gateways: {string.Join(", ", learned.LearnedGateways!)}");
        await Eventually.Until(traffic.AuthorizeAsync, a => a.Outcome == Outcome.Approved && a.ServerId == "srv-a", "a 0200 approved by srv-a",
            diagnostics: Diagnostics, poll: TimeSpan.FromMilliseconds(20));

        first.Kill();
        var killed = clock.Elapsed;
        Log($"kill -9 {first.Name}");
        var reattached = await Eventually.Until(sidecar.StatusAsync,
            s => s.ControllerAttached && s.Controller == second.GrpcAddress, $"re-attached through {second.Name}",
            TimeSpan.FromSeconds(30), Diagnostics, TimeSpan.FromMilliseconds(20));
        var took = clock.Elapsed - killed;
        Log($"re-attached through {reattached.Controller} {took.TotalMilliseconds:F0} ms after the kill");
        Assert.True(took < TimeSpan.FromSeconds(10), $"re-attached {took.TotalMilliseconds:F0} ms after the kill");

        // Its next failover goes through the learned gateway (once the dead silo's grains are back elsewhere).
        srvA.Kill();
        Log("kill -9 srv-a");
        var entry = await Eventually.Until(async () => (await second.Rest.GetConnectionAsync(sidecar.ConnectionId), await sidecar.StatusAsync()),
            x => x.Item1 is { Status: "ACTIVE", ServerId: "srv-b" } && x.Item2.IsSignedOnAt(srvB),
            "the registry ACTIVE at srv-b and the link signed on there", TimeSpan.FromSeconds(40), Diagnostics);
        Log($"moved: {entry.Item1}");
        await Eventually.Until(traffic.AuthorizeAsync, a => a.Outcome == Outcome.Approved && a.ServerId == "srv-b", "a 0200 approved by srv-b",
            diagnostics: Diagnostics, poll: TimeSpan.FromMilliseconds(20));

        // No command lost or run twice: every command the sidecar carried out, once each. One whose ack was not applied
        // when the stream died comes again after the re-attach and is answered from what the sidecar remembers
        // ("already executed"), not run again.
        var commands = entry.Item2.RecentCommands;
        Log($"commands: {string.Join("; ", commands.Select(c => $"{c.CommandId} {c.Kind} {c.Success} {c.Detail}"))}");
        var run = commands.Where(c => !c.Detail.StartsWith("already executed", StringComparison.Ordinal)).ToList();
        Assert.Equal(run.Count, run.Select(c => c.CommandId).Distinct().Count());
        Assert.All(commands, c => Assert.Contains(run, r => r.CommandId == c.CommandId));
    }
}
