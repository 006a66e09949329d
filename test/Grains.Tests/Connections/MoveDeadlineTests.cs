using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.Grains.Tests.Infrastructure;

namespace OrleansControl.Grains.Tests.Connections;

/// <summary>A move whose target does not sign on: deadline (1 s here), next target, bounded attempts.</summary>
[Collection(MoveDeadlineCollection.Name)]
public sealed class MoveDeadlineTests(MoveDeadlineFixture fixture)
{
    private IGrainFactory Grains => fixture.Client;

    [Fact]
    public async Task A_target_that_does_not_sign_on_in_time_is_counted_against_and_the_next_one_is_tried()
    {
        var poolId = Scenario.NewId("pool");
        await Scenario.PoolAsync(Grains, poolId, ("s-a1", "a", 5), ("s-b1", "b", 5), ("s-c1", "c", 5));
        var connection = await Scenario.ActiveAsync(Grains, poolId, preferred: "s-a1");

        var first = await connection.ReportFailure(new FailureReport("connection refused", "s-a1"));
        var firstTarget = first.Record!.ToServerId!;
        // The sidecar is alive (it heartbeats) but cannot sign on at the first target.
        var state = await KeepBeatingUntilAsync(connection, s => s.FailoverTarget != firstTarget, Scenario.Reconnecting());

        var secondTarget = state.FailoverTarget!;
        Assert.Equal(ConnectionStatus.Migrating, state.Status);
        Assert.NotEqual(firstTarget, secondTarget);
        Assert.NotEqual("s-a1", secondTarget);
        Assert.Contains("attempt 2 of 3", state.StatusDetail, StringComparison.Ordinal);
        var pool = await Grains.GetGrain<IServerPoolGrain>(poolId).GetSnapshot();
        Assert.True(pool.Servers.Single(s => s.ServerId == firstTarget).Suspect, "the target that did not take the link is suspect");
        Assert.Equal(1, pool.Servers.Single(s => s.ServerId == secondTarget).Load);

        await Scenario.SignOnAtTargetAsync(Grains, connection);
        state = await connection.GetState();
        Assert.Equal((ConnectionStatus.Active, secondTarget), (state.Status, state.ServerId));
        Assert.Equal(2, state.RecentFailovers[^1].Attempts);
    }

    [Fact]
    public async Task When_no_target_signs_on_the_connection_is_failed_with_no_target_and_says_why()
    {
        var poolId = Scenario.NewId("pool");
        await Scenario.PoolAsync(Grains, poolId, ("s-a1", "a", 5), ("s-b1", "b", 5), ("s-c1", "c", 5));
        var connection = await Scenario.ActiveAsync(Grains, poolId, preferred: "s-a1");

        await connection.ReportFailure(new FailureReport("connection refused", "s-a1"));
        var state = await KeepBeatingUntilAsync(connection, s => s.Status == ConnectionStatus.Failed, Scenario.Reconnecting());

        Assert.Equal(ConnectionStatus.Failed, state.Status);
        Assert.StartsWith("no failover target", state.StatusDetail, StringComparison.Ordinal);
        Assert.Equal(FailoverOutcome.Abandoned, state.RecentFailovers[^1].Outcome);
        Assert.DoesNotContain(state.RecentTransitions.Skip(2), t => t.To == ConnectionStatus.Active);
        // The safety rule: never every server ejected, so one of the three is still usable.
        var pool = await Grains.GetGrain<IServerPoolGrain>(poolId).GetSnapshot();
        Assert.Contains(pool.Servers, s => !s.Suspect);
    }

    [Fact]
    public async Task A_silent_sidecar_does_not_get_healthy_servers_ejected()
    {
        await Scenario.TwoZonePoolAsync(Grains, out var poolId);
        var connection = await Scenario.ActiveAsync(Grains, poolId, preferred: "s-a1");
        await using var stream = await Scenario.AttachSidecarAsync(fixture.Client, connection);

        // Attached, but no heartbeats at all: the timeout starts a move that nobody carries out.
        var state = await TestSettings.EventuallyAsync(connection.GetState,
            s => s.RecentFailovers.Length > 0 && s.RecentFailovers[^1].Attempts >= 2, TimeSpan.FromSeconds(15));

        Assert.NotEqual(ConnectionStatus.Active, state.Status);
        var pool = await Grains.GetGrain<IServerPoolGrain>(poolId).GetSnapshot();
        Assert.All(pool.Servers, s => Assert.False(s.Suspect, $"{s.ServerId} ejected on a silent sidecar's account"));
    }

    private static async Task<ConnectionSnapshot> KeepBeatingUntilAsync(IConnectionGrain connection, Func<ConnectionSnapshot, bool> done, Heartbeat beat)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            await connection.RecordHeartbeat(beat with { SentAt = DateTimeOffset.UtcNow });
            var state = await connection.GetState();
            if (done(state) || DateTime.UtcNow > deadline)
                return state;
            await Task.Delay(200);
        }
    }
}
