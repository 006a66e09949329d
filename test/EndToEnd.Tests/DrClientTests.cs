using OrleansControl.EndToEnd.Tests.Processes;
using Xunit.Abstractions;

namespace OrleansControl.EndToEnd.Tests;

/// <summary>
/// activate-dr-client with every piece its own process: the scheme servers report the sessions they hold (their
/// server-side sidecars), a DR sidecar stands by for the bank's connection, and the active sidecar is killed with kill -9.
/// </summary>
[Collection(RealProcessesCollection.Name)]
public sealed class DrClientTests(ITestOutputHelper output)
{
    private const string DrSidecarId = "sidecar-dr";

    [Fact]
    public async Task A_killed_client_fails_over_to_its_standby_which_signs_on_and_approves_and_the_restarted_primary_stays_standby()
    {
        await using var d = await Deployment.StartAsync(servers: 2, output, serverSessions: true);
        var server = d["srv-a"];
        using var dr = await SidecarHostProcess.StartAsync(d.Controller.GrpcAddress, DrSidecarId, Deployment.ClientId, Deployment.Pool, "srv-a",
            connectionId: d.ConnectionId, standby: true);
        string Diagnostics() => $"{d.Diagnostics()}{Environment.NewLine}{dr.Tail()}";
        await Eventually.Until(dr.StatusAsync, s => s.Standby && s.ControllerAttached, "the DR sidecar attached as standby", diagnostics: Diagnostics);
        await d.RegistryUntil(e => e.Standbys!.Contains(DrSidecarId), "the DR sidecar listed as standby");
        Assert.False((await dr.StatusAsync()).SignedOn); // a standby holds no link
        await using var watch = new RegistryWatch(d.Rest, d.ConnectionId);

        // An established client (heartbeats and the server's session reports since its sign-on: a client killed within a
        // heartbeat of signing on is judged by the older rules, Unknown while detached — see the issue note), then it
        // dies: its sidecar (link, relay, agent) is killed; the kernel closes its session.
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        d.Sidecar.Kill();
        var killedAt = DateTimeOffset.UtcNow;
        d.Log("killed the active client's sidecar");

        var (entry, status) = await Eventually.Until(async () => (await d.Rest.GetConnectionAsync(d.ConnectionId), await dr.StatusAsync()),
            x => x.Item1 is { Status: "ACTIVE", SidecarId: DrSidecarId } e && e.ServerId == server.ServerId && x.Item2.IsSignedOnAt(server),
            "the DR sidecar signed on at srv-a and the registry ACTIVE on it", TimeSpan.FromSeconds(30), Diagnostics);
        d.Log($"DR client active {(DateTimeOffset.UtcNow - killedAt).TotalSeconds:0.0} s after the kill: {entry} / {status}");
        // The agent records the command once it has returned, a moment after the link it made signed on.
        await Eventually.Until(dr.StatusAsync, s => s.RecentCommands.Any(c => c.Kind == "Connect" && c.Success),
            "the DR sidecar's Connect recorded as carried out", TimeSpan.FromSeconds(5), Diagnostics);
        Assert.Contains(Deployment.SidecarId, entry!.Standbys!);

        // The bank application at the DR site sends through the DR sidecar's relay: approved by the same server.
        await using var drTraffic = new IsoTraffic(dr.RelayPort);
        await Eventually.Until(drTraffic.AuthorizeAsync, a => a.Outcome == Outcome.Approved && a.ServerId == server.ServerId,
            "a 0200 approved through the DR sidecar", diagnostics: Diagnostics, poll: TimeSpan.FromMilliseconds(20));
        for (var i = 0; i < 5; i++)
        {
            var answer = await drTraffic.AuthorizeAsync();
            Assert.True(answer is { Outcome: Outcome.Approved } && answer.ServerId == server.ServerId, $"0200 #{i + 1} through the DR sidecar: {answer}");
        }

        // Two phases, as the registry showed them: after the kill it never named the DR sidecar until it was ACTIVE there,
        // and on the way it said the client had died (its session gone) while the standby was being activated.
        // (The watch polls on its own clock: let it catch up with what the wait above already saw.)
        await Eventually.Until(() => Task.FromResult(watch.Seen.Any(o => o.At > killedAt && o.Entry?.SidecarId == DrSidecarId)), seen => seen,
            "the registry watch saw the DR sidecar", TimeSpan.FromSeconds(5), Diagnostics);
        var afterKill = watch.Seen.Where(o => o.At > killedAt && o.Entry is not null).ToList();
        var firstOnDr = afterKill.FindIndex(o => o.Entry!.SidecarId == DrSidecarId);
        Assert.True(firstOnDr >= 0, watch.Describe());
        Assert.Equal("ACTIVE", afterKill[firstOnDr].Entry!.Status);
        Assert.All(afterKill.Take(firstOnDr), o => Assert.Equal(Deployment.SidecarId, o.Entry!.SidecarId));

        // The old primary comes back (a supervisor restarts it, configured as before): it joins as standby, opens no link.
        using var back = await SidecarHostProcess.StartAsync(d.Controller.GrpcAddress, Deployment.SidecarId, Deployment.ClientId, Deployment.Pool, "srv-a");
        await Eventually.Until(back.StatusAsync, s => s.Standby && s.ControllerAttached, "the restarted primary attached as standby",
            diagnostics: () => $"{Diagnostics()}{Environment.NewLine}{back.Tail()}");
        var returned = DateTimeOffset.UtcNow;
        var later = await d.RegistryUntil(e => e.LastHeartbeat > returned.AddSeconds(3), "three more heartbeats after the primary returned");
        d.Log(watch.Describe());

        Assert.Equal(("ACTIVE", DrSidecarId, server.ServerId), (later.Status, later.SidecarId, later.ServerId));
        Assert.False((await back.StatusAsync()).SignedOn);
        Assert.All(watch.Seen.Where(o => o.At > afterKill[firstOnDr].At && o.Entry is not null),
            o => Assert.Equal(("ACTIVE", DrSidecarId), (o.Entry!.Status, o.Entry.SidecarId)));
        var last = await drTraffic.AuthorizeAsync();
        Assert.True(last is { Outcome: Outcome.Approved } && last.ServerId == server.ServerId, $"0200 after the primary returned: {last}");
    }

    [Fact]
    public async Task A_client_killed_right_after_signing_on_is_judged_by_the_server_side_and_its_standby_activated()
    {
        await using var d = await Deployment.StartAsync(servers: 2, output, serverSessions: true, startClient: false);
        var server = d["srv-a"];
        var connectionId = $"{Deployment.SidecarId}.{Deployment.ClientId}";
        // The standby first: it retries its registration until the primary has registered the connection.
        using var dr = await SidecarHostProcess.StartAsync(d.Controller.GrpcAddress, DrSidecarId, Deployment.ClientId, Deployment.Pool, "srv-a",
            connectionId: connectionId, standby: true);
        // The primary beats every 5 s: between its sign-on and its death it says nothing but its state report.
        using var primary = await SidecarHostProcess.StartAsync(d.Controller.GrpcAddress, Deployment.SidecarId, Deployment.ClientId, Deployment.Pool, "srv-a",
            heartbeatInterval: TimeSpan.FromSeconds(5));
        string Diagnostics() => $"{d.Diagnostics()}{Environment.NewLine}{primary.Tail()}{Environment.NewLine}{dr.Tail()}";
        await Eventually.Until(primary.StatusAsync, s => s.IsSignedOnAt(server), "the primary signed on at srv-a", diagnostics: Diagnostics,
            poll: TimeSpan.FromMilliseconds(20));
        d.Log("the primary signed on");
        await Task.Delay(TimeSpan.FromMilliseconds(300));
        primary.Kill();
        var killedAt = DateTimeOffset.UtcNow;
        d.Log("killed the primary 0.3 s after its sign-on");

        // Judged dead by the server side (its session closed with the process) within a few seconds: the standby is
        // activated, signs on, and the registry names it; not left Unknown on the older rule.
        var (entry, status) = await Eventually.Until(async () => (await d.Rest.GetConnectionAsync(connectionId), await dr.StatusAsync()),
            x => x.Item1 is { Status: "ACTIVE", SidecarId: DrSidecarId } e && e.ServerId == server.ServerId && x.Item2.IsSignedOnAt(server),
            "the DR sidecar signed on at srv-a and the registry ACTIVE on it", TimeSpan.FromSeconds(20), Diagnostics);
        d.Log($"DR client active {(DateTimeOffset.UtcNow - killedAt).TotalSeconds:0.0} s after the kill: {entry} / {status}");
        // The agent records the command once it has returned, a moment after the link it made signed on.
        await Eventually.Until(dr.StatusAsync, s => s.RecentCommands.Any(c => c.Kind == "Connect" && c.Success),
            "the DR sidecar's Connect recorded as carried out", TimeSpan.FromSeconds(5), Diagnostics);
        Assert.Contains(Deployment.SidecarId, entry!.Standbys!);
        await using var drTraffic = new IsoTraffic(dr.RelayPort);
        await Eventually.Until(drTraffic.AuthorizeAsync, a => a.Outcome == Outcome.Approved && a.ServerId == server.ServerId,
            "a 0200 approved through the DR sidecar", diagnostics: Diagnostics, poll: TimeSpan.FromMilliseconds(20));
    }
}
