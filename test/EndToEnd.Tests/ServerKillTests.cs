using OrleansControl.EndToEnd.Tests.Processes;
using Xunit.Abstractions;

namespace OrleansControl.EndToEnd.Tests;

/// <summary>
/// Scheme servers killed with kill -9 under a live link: the registry must follow what the link really does (never
/// ACTIVE on a dead server), a dead server must not be handed out again, and a pool with nowhere to go must say so.
/// </summary>
[Collection(RealProcessesCollection.Name)]
public sealed class ServerKillTests(ITestOutputHelper output)
{
    /// <summary>How long the registry may still show a killed server ACTIVE: the sidecar sees the reset at once and
    /// says so; a heartbeat interval is the most it may take.</summary>
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task When_the_failover_target_died_first_the_move_goes_on_to_a_live_server_and_never_shows_a_dead_one_active()
    {
        await using var d = await Deployment.StartAsync(servers: 3, output);
        await using var watch = new RegistryWatch(d.Rest, d.ConnectionId);
        d.Traffic.StartSteady(TimeSpan.FromMilliseconds(100));
        var before = await d.RegistryUntil(e => e.FailoverTarget is not null, "a failover target chosen");
        var idle = d[before.FailoverTarget!];
        var carrying = d["srv-a"];
        var survivor = d.Servers.Single(s => s != idle && s != carrying);

        // The server the next failover would go to dies first, unnoticed (nothing is connected to it), then the link's.
        idle.Kill();
        d.Log($"killed idle {idle.ServerId} (the failover target)");
        carrying.Kill();
        d.Log($"killed carrying {carrying.ServerId}");

        await d.UntilSignedOnAt(survivor);
        await d.AssertTransactionsApprovedBy(survivor);
        var moved = DateTimeOffset.UtcNow;
        await d.RegistryUntil(e => e.LastHeartbeat > moved.AddSeconds(1.5), "two more heartbeats on the survivor");
        d.Log(watch.Describe());

        watch.AssertNeverActiveOnDead(d.Servers, Grace);
        Assert.Contains(watch.Seen, o => o.Entry is { Status: "MIGRATING" } e && e.FailoverTarget == idle.ServerId);
        var last = watch.Seen[^1].Entry!;
        Assert.Equal(("ACTIVE", survivor.ServerId), (last.Status, last.ServerId));
        Assert.Contains(d.Traffic.History, a => a.SentAt > carrying.KilledAt && a.Outcome == Outcome.Approved && a.ServerId == survivor.ServerId);
        d.Log($"traffic: {d.Traffic.Summary()}");
    }

    [Fact]
    public async Task With_both_servers_of_the_pool_dead_the_registry_ends_failed_with_the_reason_never_active_on_a_dead_server()
    {
        await using var d = await Deployment.StartAsync(servers: 2, output);
        await using var watch = new RegistryWatch(d.Rest, d.ConnectionId);

        d["srv-b"].Kill();
        d.Log("killed idle srv-b");
        d["srv-a"].Kill();
        d.Log("killed carrying srv-a");

        var failed = await d.RegistryUntil(e => e.Status == "FAILED" && e.StatusDetail.StartsWith("no failover target", StringComparison.Ordinal),
            "FAILED with 'no failover target' in status_detail");
        d.Log($"failed: {failed}");
        // It keeps retrying (with backoff) and keeps saying so; give it a few more heartbeats.
        var failedAt = DateTimeOffset.UtcNow;
        await d.RegistryUntil(e => e.LastHeartbeat > failedAt.AddSeconds(3), "three more heartbeats");
        d.Log(watch.Describe());

        watch.AssertNeverActiveOnDead(d.Servers, Grace);
        var since = watch.Seen.SkipWhile(o => o.Entry is not { Status: "FAILED" }).ToList();
        Assert.All(since, o =>
        {
            Assert.Contains(o.Entry!.Status, new[] { "FAILED", "MIGRATING" });
            Assert.NotEqual("", o.Entry.StatusDetail);
        });
        var answer = await d.Traffic.AuthorizeAsync();
        Assert.NotEqual(Outcome.Approved, answer.Outcome);
    }

    [Fact]
    public async Task A_killed_server_is_ejected_as_suspect_and_not_assigned_to_a_new_connection_that_prefers_it()
    {
        await using var d = await Deployment.StartAsync(servers: 2, output);

        d["srv-a"].Kill();
        await d.UntilSignedOnAt(d["srv-b"]);
        await d.AssertTransactionsApprovedBy(d["srv-b"]);

        var servers = await d.Rest.ListServersAsync(Deployment.Pool);
        var dead = servers.Single(s => s.ServerId == "srv-a");
        Assert.True(dead.Suspect, $"srv-a listed as {dead}");
        Assert.False(dead.Healthy);
        Assert.NotEqual("", dead.HealthDetail);
        Assert.False(servers.Single(s => s.ServerId == "srv-b").Suspect);

        // An operator registers another connection that prefers the dead server.
        var fresh = await d.Rest.RegisterAsync("ops-conn-1", "bank-b", Deployment.Pool, preferredServer: "srv-a");
        Assert.Equal("srv-b", fresh.ServerId);
        Assert.Equal(d["srv-b"].Address, fresh.ServerAddress);
    }

    [Fact]
    public async Task In_a_one_server_pool_a_failover_asked_for_by_the_application_is_refused_and_nothing_stops()
    {
        await using var d = await Deployment.StartAsync(servers: 1, output);
        var only = d["srv-a"];
        var before = await d.RegistryUntil(e => e.Status == "ACTIVE" && e.LastHeartbeat is not null, "ACTIVE with a heartbeat");

        var asked = DateTimeOffset.UtcNow;
        var (status, body) = await d.Sidecar.RequestFailoverAsync("the application asks to move");
        d.Log($"POST /control/failover: {status} {body}");
        Assert.Equal(409, status);
        Assert.Contains("no failover target", body);

        var after = await d.RegistryUntil(e => e.LastHeartbeat > before.LastHeartbeat!.Value.AddSeconds(2), "heartbeats still recorded");
        Assert.Equal(("ACTIVE", only.ServerId, ""), (after.Status, after.ServerId, after.StatusDetail));
        Assert.True((await d.Sidecar.StatusAsync()).IsSignedOnAt(only));
        await d.AssertTransactionsApprovedBy(only, more: 10);
        Assert.All(d.Traffic.Since(asked), a => Assert.Equal((Outcome.Approved, only.ServerId), (a.Outcome, a.ServerId)));
    }
}
