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
    public async Task Heartbeat_timeout_fails_the_connection_over_to_another_zone()
    {
        await Scenario.TwoZonePoolAsync(Grains, out var poolId);
        var connection = await Scenario.ActiveAsync(Grains, poolId, preferred: "s-a1");
        var clock = Stopwatch.StartNew();

        var state = await TestSettings.EventuallyAsync(connection.GetState, s => s.RecentFailovers.Length > 0, TimeSpan.FromSeconds(15));
        var detectedAfter = clock.Elapsed;

        Assert.Equal((ConnectionStatus.Active, "s-b1"), (state.Status, state.ServerId));
        var failover = Assert.Single(state.RecentFailovers);
        Assert.Equal(("heartbeat-timeout", "s-a1", "s-b1", FailoverOutcome.Moved), (failover.Reason, failover.FromServerId, failover.ToServerId, failover.Outcome));
        Assert.True(failover.FailedAt <= failover.MigratingAt && failover.MigratingAt <= failover.CompletedAt);
        Assert.Equal(
            [ConnectionStatus.Active, ConnectionStatus.Failed, ConnectionStatus.Migrating, ConnectionStatus.Active],
            state.RecentTransitions.Skip(1).Select(t => t.To));
        // 3 missed 1 s intervals, detected by a 1 s timer: between 3 and ~5 s (slack for a loaded 2-core machine).
        Assert.InRange(detectedAfter, TimeSpan.FromSeconds(2.5), TimeSpan.FromSeconds(10));

        var pool = await Grains.GetGrain<IServerPoolGrain>(poolId).GetSnapshot();
        Assert.Equal((0, 1), (pool.Servers.Single(s => s.ServerId == "s-a1").Load, pool.Servers.Single(s => s.ServerId == "s-b1").Load));
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

        await pool.AddOrUpdateServer(new ServerDefinition("s-b1", "s-b1.scheme.test:8583", "b", 5));
        var state = await TestSettings.EventuallyAsync(connection.GetState, s => s.Status == ConnectionStatus.Active, TimeSpan.FromSeconds(10));
        Assert.Equal((ConnectionStatus.Active, "s-b1"), (state.Status, state.ServerId));
    }
}
