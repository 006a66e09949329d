using System.Diagnostics;
using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.Grains.Tests.Infrastructure;

namespace OrleansControl.Grains.Tests.Connections;

/// <summary>Timer-driven behaviour with 1 s heartbeat intervals.</summary>
[Collection(FastHeartbeatCollection.Name)]
public sealed class HeartbeatTimeoutTests(FastHeartbeatFixture fixture)
{
    private IGrainFactory Grains => fixture.Client;

    [Fact]
    public async Task Heartbeat_timeout_of_an_attached_sidecar_starts_a_move_that_completes_when_it_signs_on()
    {
        await Scenario.TwoZonePoolAsync(Grains, out var poolId);
        var connection = await Scenario.ActiveAsync(Grains, poolId, preferred: "s-a1");
        // The sidecar's stream is up (it polls its outbox), but this connection's heartbeats stopped.
        await using var stream = await Scenario.AttachSidecarAsync(fixture.Client, connection);
        var clock = Stopwatch.StartNew();

        var state = await TestSettings.EventuallyAsync(connection.GetState, s => s.RecentFailovers.Length > 0, TimeSpan.FromSeconds(15));
        var detectedAfter = clock.Elapsed;

        // Migrating, still named on s-a1 (nothing has signed on anywhere), the command waiting for the sidecar.
        Assert.Equal((ConnectionStatus.Migrating, "s-a1", "s-b1"), (state.Status, state.ServerId, state.FailoverTarget));
        var failover = Assert.Single(state.RecentFailovers);
        Assert.Equal(("heartbeat-timeout", "s-a1", "s-b1", FailoverOutcome.Migrating), (failover.Reason, failover.FromServerId, failover.ToServerId, failover.Outcome));
        // 3 missed 1 s intervals, detected by a 1 s timer: between 3 and ~5 s (slack for a loaded 2-core machine).
        Assert.InRange(detectedAfter, TimeSpan.FromSeconds(2.5), TimeSpan.FromSeconds(10));

        await Scenario.SignOnAtTargetAsync(Grains, connection);
        state = await connection.GetState();
        failover = Assert.Single(state.RecentFailovers);
        Assert.Equal((ConnectionStatus.Active, "s-b1", FailoverOutcome.Moved), (state.Status, state.ServerId, failover.Outcome));
        Assert.True(failover.FailedAt <= failover.MigratingAt && failover.MigratingAt <= failover.CompletedAt);
        Assert.Equal(
            [ConnectionStatus.Active, ConnectionStatus.Failed, ConnectionStatus.Migrating, ConnectionStatus.Active],
            state.RecentTransitions.Skip(1).Select(t => t.To));
        var pool = await Grains.GetGrain<IServerPoolGrain>(poolId).GetSnapshot();
        Assert.Equal((0, 1), (pool.Servers.Single(s => s.ServerId == "s-a1").Load, pool.Servers.Single(s => s.ServerId == "s-b1").Load));
    }

    [Fact]
    public async Task A_registration_whose_sidecar_has_not_attached_yet_is_left_requested_not_moved()
    {
        // A sidecar that registers and is slow to attach (its host starting under load): seen in a real-process run as
        // a failover to another server 4 s after the registration, before the sidecar had said anything.
        await Scenario.TwoZonePoolAsync(Grains, out var poolId);
        var connection = await Scenario.RegisterAsync(Grains, poolId, preferred: "s-a1");
        await Task.Delay(TimeSpan.FromSeconds(5)); // 3 missed 1 s intervals, and more

        var state = await connection.GetState();
        Assert.Equal((ConnectionStatus.Requested, "s-a1"), (state.Status, state.ServerId));
        Assert.Empty(state.RecentFailovers);
        Assert.DoesNotContain(await Grains.GetGrain<ISidecarOutboxGrain>(state.SidecarId!).GetPending(), p => p.Command.MovesLink);

        // It attaches and signs on where it was assigned: Active there.
        await using var stream = await Scenario.AttachSidecarAsync(fixture.Client, connection);
        await connection.RecordHeartbeat(Scenario.SignedOnAt(state.ServerAddress!));
        state = await connection.GetState();
        Assert.Equal((ConnectionStatus.Active, "s-a1"), (state.Status, state.ServerId));
        Assert.Empty(state.RecentFailovers);
    }

    [Fact]
    public async Task A_silent_sidecar_attached_to_no_gateway_is_unknown_not_moved_and_back_when_it_beats_again()
    {
        await Scenario.TwoZonePoolAsync(Grains, out var poolId);
        var connection = await Scenario.ActiveAsync(Grains, poolId, preferred: "s-a1");
        var stream = await Scenario.AttachSidecarAsync(fixture.Client, connection);
        await stream.DisposeAsync(); // the stream ended (its gateway's silo died, the network between them cut)

        var state = await TestSettings.EventuallyAsync(connection.GetState, s => s.Status != ConnectionStatus.Active, TimeSpan.FromSeconds(15));
        await Task.Delay(TimeSpan.FromSeconds(3)); // and nothing else happens after it

        state = await connection.GetState();
        Assert.Equal((ConnectionStatus.Unknown, "s-a1"), (state.Status, state.ServerId));
        Assert.Contains("not moved", state.StatusDetail, StringComparison.Ordinal);
        Assert.Empty(state.RecentFailovers);
        Assert.DoesNotContain(await Grains.GetGrain<ISidecarOutboxGrain>(state.SidecarId!).GetPending(), p => p.Command.MovesLink);
        var pool = await Grains.GetGrain<IServerPoolGrain>(poolId).GetSnapshot();
        Assert.Equal(1, pool.Servers.Single(s => s.ServerId == "s-a1").Load);
        Assert.All(pool.Servers, s => Assert.False(s.Suspect));

        // It comes back: its heartbeat says where the link is.
        var ack = await connection.RecordHeartbeat(Scenario.SignedOnAt(Scenario.Address("s-a1")));
        Assert.Equal((ConnectionStatus.Active, "s-a1"), (ack.Status, ack.ServerId));
    }

    [Fact]
    public async Task Regular_heartbeats_keep_the_connection_where_it_is()
    {
        await Scenario.TwoZonePoolAsync(Grains, out var poolId);
        var connection = await Scenario.ActiveAsync(Grains, poolId, preferred: "s-a1");
        for (var i = 0; i < 10; i++)
        {
            await Task.Delay(500);
            await connection.RecordHeartbeat(Scenario.GoodHeartbeat());
        }
        var state = await connection.GetState();
        Assert.Equal((ConnectionStatus.Active, "s-a1", 2L), (state.Status, state.ServerId, state.Version));
        Assert.Empty(state.RecentFailovers);
    }

    [Fact]
    public async Task Without_a_target_the_connection_stays_failed_until_a_server_appears()
    {
        var poolId = Scenario.NewId("pool");
        var pool = await Scenario.PoolAsync(Grains, poolId, ("s-a1", "a", 5));
        var connection = await Scenario.ActiveAsync(Grains, poolId);

        var result = await connection.ReportFailure(new FailureReport("link down", "s-a1"));
        Assert.Equal((FailoverOutcome.NoTarget, ConnectionStatus.Failed), (result.Outcome, result.Snapshot.Status));
        Assert.StartsWith("no failover target", result.Snapshot.StatusDetail, StringComparison.Ordinal);

        // The pool tells the waiting connection at once (no need to wait for its backoff).
        var clock = Stopwatch.StartNew();
        await pool.AddOrUpdateServer(new ServerDefinition("s-b1", "s-b1.scheme.test:8583", "b", 5));
        var state = await TestSettings.EventuallyAsync(connection.GetState, s => s.Status == ConnectionStatus.Migrating, TimeSpan.FromSeconds(10));
        Assert.Equal((ConnectionStatus.Migrating, "s-b1"), (state.Status, state.FailoverTarget));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
        await Scenario.SignOnAtTargetAsync(Grains, connection);
        state = await connection.GetState();
        Assert.Equal((ConnectionStatus.Active, "s-b1"), (state.Status, state.ServerId));
    }

    [Fact]
    public async Task Heartbeats_are_written_to_redis_at_most_once_per_persist_interval()
    {
        await Scenario.TwoZonePoolAsync(Grains, out var poolId);
        var connection = await Scenario.ActiveAsync(Grains, poolId);
        var key = $"connections:{connection.GetPrimaryKeyString()}";
        var firstBeat = await fixture.Redis.CliAsync("HGET", key, "last_heartbeat");
        var before = await WritesAsync();
        var clock = Stopwatch.StartNew();

        for (var i = 0; i < 300; i++)
            await connection.RecordHeartbeat(Scenario.GoodHeartbeat());
        var elapsed = clock.Elapsed;
        var writes = await WritesAsync() - before;

        // Persist interval 1 s (0.9 s with the timer's slack): one state write and one projection write per interval,
        // plus the window already open — far from one write per heartbeat.
        var allowed = 2 * ((int)Math.Ceiling(elapsed.TotalSeconds / 0.9) + 1);
        Assert.True(writes <= allowed, $"{writes} Redis writes for 300 heartbeats in {elapsed.TotalMilliseconds:F0} ms (allowed {allowed})");

        // ...and the latest heartbeat does reach Redis within a persist interval or two.
        var lastBeat = await TestSettings.EventuallyAsync(() => fixture.Redis.CliAsync("HGET", key, "last_heartbeat"),
            v => v != firstBeat, TimeSpan.FromSeconds(5));
        Assert.NotEqual(firstBeat, lastBeat);
    }

    /// <summary>HSET/HMSET calls so far (Orleans' storage script writes with HMSET; the projection with HSET/HMSET).</summary>
    private async Task<long> WritesAsync()
    {
        var stats = await fixture.Redis.CliAsync("INFO", "commandstats");
        return stats.Split('\n')
            .Where(l => l.StartsWith("cmdstat_hset:", StringComparison.Ordinal) || l.StartsWith("cmdstat_hmset:", StringComparison.Ordinal))
            .Sum(l => long.Parse(l.Split(',')[0].Split('=')[1], System.Globalization.CultureInfo.InvariantCulture));
    }
}
