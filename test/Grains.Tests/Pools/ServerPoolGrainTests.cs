using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Errors;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.Grains.Tests.Infrastructure;

namespace OrleansControl.Grains.Tests.Pools;

[Collection(SingleSiloCollection.Name)]
public sealed class ServerPoolGrainTests(SingleSiloFixture fixture)
{
    private IGrainFactory Grains => fixture.Client;

    [Fact]
    public async Task Registration_honours_the_preferred_server()
    {
        await Scenario.TwoZonePoolAsync(Grains, out var poolId);
        var connection = await Scenario.RegisterAsync(Grains, poolId, preferred: "s-a2");
        var state = await connection.GetState();
        Assert.Equal(ConnectionStatus.Requested, state.Status);
        Assert.Equal("s-a2", state.ServerId);
        Assert.Equal("s-a2.scheme.test:8583", state.ServerAddress);
        Assert.Equal("s-b1", state.FailoverTarget); // suggested standby is in the other zone
    }

    [Fact]
    public async Task A_link_signed_on_at_a_full_server_is_booked_there_and_flagged_over_capacity()
    {
        var poolId = Scenario.NewId("pool");
        var pool = await Scenario.PoolAsync(Grains, poolId, ("s-1", "a", 1), ("s-2", "b", 1));
        await pool.Assign(new AssignmentRequest("c-1", "bank", "s-1"));
        await pool.Assign(new AssignmentRequest("c-2", "bank", "s-2"));

        // c-2's link is at s-1 (a provisional choice in the death window, or the sidecar's own move): it is booked where
        // the link is, one reservation per connection, and the pool says the server is beyond its capacity.
        var confirmed = await pool.ConfirmSignedOn("c-2", Scenario.Address("s-1"));
        var again = await pool.ConfirmSignedOn("c-1", Scenario.Address("s-1"));

        Assert.Equal(("s-1", true), (confirmed!.ServerId, confirmed.OverCapacity));
        Assert.False(again!.OverCapacity); // already booked there: nothing new taken
        var snapshot = await pool.GetSnapshot();
        Assert.Equal((2, 0), (snapshot.Servers.Single(s => s.ServerId == "s-1").Load, snapshot.Servers.Single(s => s.ServerId == "s-2").Load));
        Assert.Equal(2, snapshot.TotalLoad);
    }

    [Fact]
    public async Task Registrations_without_preference_spread_across_zones()
    {
        await Scenario.TwoZonePoolAsync(Grains, out var poolId);
        var servers = new List<string?>();
        for (var i = 0; i < 4; i++)
            servers.Add((await (await Scenario.RegisterAsync(Grains, poolId)).GetState()).ServerId);
        // zone a has 20 slots, zone b 10: utilisation keeps zone b in use from the first two.
        Assert.Contains("s-b1", servers.Take(2));
        Assert.Contains(servers, s => s!.StartsWith("s-a", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Concurrent_registrations_never_exceed_capacity()
    {
        var poolId = Scenario.NewId("pool");
        var pool = await Scenario.PoolAsync(Grains, poolId, ("s-a1", "a", 4), ("s-b1", "b", 3));
        var attempts = Enumerable.Range(0, 30).Select(async _ =>
        {
            try
            {
                await Scenario.RegisterAsync(Grains, poolId, preferred: "s-a1");
                return true;
            }
            catch (PoolCapacityExceededException)
            {
                return false;
            }
        });
        var results = await Task.WhenAll(attempts);

        Assert.Equal(7, results.Count(ok => ok));
        var snapshot = await pool.GetSnapshot();
        Assert.All(snapshot.Servers, s => Assert.Equal(s.Capacity, s.Load));
        Assert.Equal(7, snapshot.TotalLoad);
    }

    [Fact]
    public async Task Assign_is_idempotent_and_release_frees_the_slot()
    {
        var poolId = Scenario.NewId("pool");
        var pool = await Scenario.PoolAsync(Grains, poolId, ("s-a1", "a", 1));
        var first = await pool.Assign(new AssignmentRequest("c1", "bank"));
        var again = await pool.Assign(new AssignmentRequest("c1", "bank"));
        Assert.Equal(first.ServerId, again.ServerId);
        await Assert.ThrowsAsync<PoolCapacityExceededException>(() => pool.Assign(new AssignmentRequest("c2", "bank")));

        await pool.Release("c1");
        await pool.Release("c1");
        Assert.Equal("s-a1", (await pool.Assign(new AssignmentRequest("c2", "bank"))).ServerId);
        Assert.Equal(1, (await pool.GetSnapshot()).TotalLoad);
    }

    [Fact]
    public async Task Unhealthy_servers_get_no_connections_and_unknown_servers_are_typed_errors()
    {
        var poolId = Scenario.NewId("pool");
        var pool = await Scenario.PoolAsync(Grains, poolId, ("s-a1", "a", 5), ("s-b1", "b", 5));
        await pool.SetServerHealth("s-a1", ServerHealth.Unhealthy);
        for (var i = 0; i < 3; i++)
            Assert.Equal("s-b1", (await pool.Assign(new AssignmentRequest($"c{i}", "bank", "s-a1"))).ServerId);

        var error = await Assert.ThrowsAsync<ServerNotFoundException>(() => pool.SetServerHealth("nope", ServerHealth.Healthy));
        Assert.Equal("nope", error.ServerId);
        await Assert.ThrowsAsync<InvalidRequestException>(() => pool.AddOrUpdateServer(new ServerDefinition("x", "x:1", "a", -1)));
    }

    [Fact]
    public async Task Pool_state_survives_deactivation()
    {
        var poolId = Scenario.NewId("pool");
        var pool = await Scenario.PoolAsync(Grains, poolId, ("s-a1", "a", 5), ("s-b1", "b", 5));
        await pool.Assign(new AssignmentRequest("c1", "bank", "s-b1"));
        await fixture.Cluster.DeactivateAsync(pool);

        var snapshot = await Grains.GetGrain<IServerPoolGrain>(poolId).GetSnapshot();
        Assert.Equal(2, snapshot.Servers.Length);
        Assert.Equal(1, snapshot.Servers.Single(s => s.ServerId == "s-b1").Load);
    }

    [Fact]
    public async Task Marking_a_server_unhealthy_fails_its_connections_over()
    {
        await Scenario.TwoZonePoolAsync(Grains, out var poolId);
        var onA1 = new List<IConnectionGrain>();
        for (var i = 0; i < 3; i++)
            onA1.Add(await Scenario.ActiveAsync(Grains, poolId, preferred: "s-a1"));
        var elsewhere = await Scenario.ActiveAsync(Grains, poolId, preferred: "s-a2");

        await Grains.GetGrain<IServerPoolGrain>(poolId).SetServerHealth("s-a1", ServerHealth.Unhealthy);

        foreach (var connection in onA1)
        {
            var state = await TestSettings.EventuallyAsync(connection.GetState, s => s.RecentFailovers.Length > 0, TimeSpan.FromSeconds(10));
            var failover = Assert.Single(state.RecentFailovers);
            Assert.Equal(("server s-a1 unhealthy", "s-a1"), (failover.Reason, failover.FromServerId));
            // Migrating until the sidecar signs on at the target; then Active there.
            Assert.Equal(ConnectionStatus.Migrating, state.Status);
            await Scenario.SignOnAtTargetAsync(Grains, connection);
            state = await connection.GetState();
            Assert.Equal(ConnectionStatus.Active, state.Status);
            Assert.NotEqual("s-a1", state.ServerId);
        }
        Assert.Equal("s-a2", (await elsewhere.GetState()).ServerId);
        var pool = await Grains.GetGrain<IServerPoolGrain>(poolId).GetSnapshot();
        Assert.Equal(0, pool.Servers.Single(s => s.ServerId == "s-a1").Load);
    }
}
