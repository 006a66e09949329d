using OrleansControl.EndToEnd.Tests.Processes;
using Xunit.Abstractions;

namespace OrleansControl.EndToEnd.Tests;

/// <summary>
/// The controller killed with kill -9 and started again on in-memory storage (registry, pools and outboxes start empty):
/// its commands must still be carried out, and its registry must learn where the link really is.
/// </summary>
[Collection(RealProcessesCollection.Name)]
public sealed class ControllerRestartTests(ITestOutputHelper output)
{
    [Fact]
    public async Task After_a_controller_restart_the_move_away_from_a_killed_server_is_carried_out()
    {
        await using var d = await Deployment.StartAsync(servers: 2, output);
        // One move first, so the sidecar has acknowledged commands of the first controller (#1 connect, #2 the move).
        await d.Rest.RequestFailoverAsync(d.ConnectionId, "planned maintenance of srv-a", "e2e-move-1");
        await d.UntilSignedOnAt(d["srv-b"]);
        var first = await d.Sidecar.StatusAsync();
        Assert.Contains(first.RecentCommands, c => c.Kind == "ReconnectElsewhere" && c.Success);

        await d.Controller.RestartAsync();
        d.Log("controller killed and started again");
        await d.DeclareServersAsync();
        await d.SidecarUntil(s => s.ControllerAttached && s.OutboxIncarnation != first.OutboxIncarnation, "attached to the new controller's outbox");
        var carrying = await d.UntilRegistryAndLinkAgree();
        var executed = (await d.Sidecar.StatusAsync()).RecentCommands.Select(c => c.CommandId).ToHashSet();

        carrying.Kill();
        d.Log($"killed carrying {carrying.ServerId}");
        var other = d.Servers.Single(s => s != carrying);
        await d.UntilSignedOnAt(other);

        var move = Assert.Single((await d.Sidecar.StatusAsync()).RecentCommands, c => c.Kind == "ReconnectElsewhere" && !executed.Contains(c.CommandId));
        Assert.True(move.Success, move.Detail);
        Assert.DoesNotContain("already executed", move.Detail);
        await d.AssertTransactionsApprovedBy(other);
    }

    [Fact]
    public async Task After_a_controller_restart_the_registry_follows_the_link_not_the_preferred_server()
    {
        await using var d = await Deployment.StartAsync(servers: 2, output);
        await d.Rest.RequestFailoverAsync(d.ConnectionId, "planned maintenance of srv-a", "e2e-move-1");
        await d.UntilSignedOnAt(d["srv-b"]);

        // The new controller knows nothing: the sidecar registers again (preferring srv-a), its link is on srv-b.
        await d.Controller.RestartAsync();
        await using var watch = new RegistryWatch(d.Rest, d.ConnectionId);
        await d.DeclareServersAsync();
        await d.UntilSignedOnAt(d["srv-b"]);
        var converged = DateTimeOffset.UtcNow;
        await d.RegistryUntil(e => e.LastHeartbeat > converged.AddSeconds(2.5), "three more heartbeats");
        d.Log(watch.Describe());

        var registered = watch.Seen.First(o => o.Entry is not null);
        var active = watch.Seen.SkipWhile(o => o.Entry is not { Status: "ACTIVE" }).ToList();
        Assert.All(active, o => Assert.Equal(("ACTIVE", "srv-b"), (o.Entry!.Status, o.Entry.ServerId)));
        Assert.True(active[0].At - registered.At < TimeSpan.FromSeconds(4), $"registered at {registered}, ACTIVE on srv-b only at {active[0]}");
        Assert.True((await d.Sidecar.StatusAsync()).IsSignedOnAt(d["srv-b"]));
        await d.AssertTransactionsApprovedBy(d["srv-b"]);
    }
}
