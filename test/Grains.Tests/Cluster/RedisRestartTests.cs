using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.Grains.Tests.Infrastructure;

namespace OrleansControl.Grains.Tests.Cluster;

/// <summary>Its own silo and Redis (append-only file on), because the test restarts that Redis.</summary>
public sealed class RedisRestartTests : IAsyncLifetime
{
    private readonly SingleSiloFixture _fixture = new();

    private IGrainFactory Grains => _fixture.Client;

    public Task InitializeAsync() => _fixture.InitializeAsync();

    public Task DisposeAsync() => _fixture.DisposeAsync();

    [Fact]
    public async Task Registry_state_survives_a_redis_restart()
    {
        // Step 1: a pool, an active connection, a failed-over one and a closed one.
        var pool = await Scenario.TwoZonePoolAsync(Grains, out var poolId);
        var active = await Scenario.ActiveAsync(Grains, poolId, preferred: "s-a1");
        var movedOver = await Scenario.ActiveAsync(Grains, poolId, preferred: "s-a2");
        await movedOver.RequestFailover(new FailoverRequest("drill", "restart-1"));
        var closed = await Scenario.ActiveAsync(Grains, poolId);
        await closed.TransitionTo(ConnectionStatus.Closed, 2, "done");
        var before = await SnapshotsAsync(active, movedOver, closed);
        var poolBefore = await pool.GetSnapshot();

        await _fixture.Redis.RestartAsync();
        foreach (var grain in new IAddressable[] { active, movedOver, closed, pool })
            await _fixture.Cluster.DeactivateAsync(grain);

        // Step 2: fresh activations read everything back from the restarted Redis.
        var after = await TestSettings.EventuallyAsync(() => SnapshotsAsync(active, movedOver, closed), _ => true, TimeSpan.FromSeconds(10));
        for (var i = 0; i < before.Length; i++)
        {
            Assert.Equal((before[i].Status, before[i].ServerId, before[i].Version, before[i].ClientId),
                (after[i].Status, after[i].ServerId, after[i].Version, after[i].ClientId));
            Assert.Equal(before[i].RecentTransitions.ToArray(), after[i].RecentTransitions.ToArray());
            Assert.Equal(before[i].RecentFailovers.ToArray(), after[i].RecentFailovers.ToArray());
        }
        var poolAfter = await Grains.GetGrain<IServerPoolGrain>(poolId).GetSnapshot();
        Assert.Equal(poolBefore.Servers.ToArray(), poolAfter.Servers.ToArray());
        Assert.Contains("active", await _fixture.Redis.CliAsync("HGET", $"connections:{active.GetPrimaryKeyString()}", "status"), StringComparison.Ordinal);

        // And the registry keeps working on the restarted server: the idempotency key is still remembered.
        Assert.Equal(FailoverOutcome.Duplicate, (await movedOver.RequestFailover(new FailoverRequest("drill", "restart-1"))).Outcome);
    }

    private static async Task<ConnectionSnapshot[]> SnapshotsAsync(params IConnectionGrain[] grains) =>
        await Task.WhenAll(grains.Select(g => g.GetState()));
}
