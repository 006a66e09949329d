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
    public async Task Reconciled_reservations_follow_the_registry_and_the_load_is_what_they_hold()
    {
        var poolId = Scenario.NewId("pool");
        var pool = await Scenario.PoolAsync(Grains, poolId, ("s-a1", "a", 2), ("s-b1", "b", 2));
        await pool.Assign(new AssignmentRequest("c1", "bank", "s-a1")); // e.g. a replayed assignment
        string Loads(ServerPoolSnapshot p) => string.Join(",", p.Servers.Select(x => $"{x.ServerId}={x.Load}"));

        // c1 is on s-b1 in the registry, c2 on s-a1, c3 on a server this pool has not (re)learnt yet, c4 closed.
        var changed = await pool.ReconcileAssignments([new("c1", "s-b1"), new("c2", "s-a1"), new("c3", "s-c1"), new("c4", null)]);
        Assert.Equal(3, changed);
        Assert.Equal("s-a1=1,s-b1=1", Loads(await pool.GetSnapshot()));

        // The same facts again change nothing; s-c1 registering finds its slot taken.
        Assert.Equal(0, await pool.ReconcileAssignments([new("c1", "s-b1"), new("c2", "s-a1"), new("c3", "s-c1")]));
        await pool.AddOrUpdateServer(new ServerDefinition("s-c1", "s-c1.scheme.test:8583", "c", 1));
        Assert.Equal("s-a1=1,s-b1=1,s-c1=1", Loads(await pool.GetSnapshot()));
        var c5 = (await pool.Assign(new AssignmentRequest("c5", "bank", "s-c1"))).ServerId; // s-c1 is full
        Assert.NotEqual("s-c1", c5);

        // Closed in the registry: the slot is freed.
        Assert.Equal(2, await pool.ReconcileAssignments([new("c1", null), new("c3", null)]));
        var after = await pool.GetSnapshot();
        Assert.Equal((2, 0), (after.TotalLoad, after.Servers.Single(x => x.ServerId == "s-c1").Load));
    }

    [Fact]
    public async Task A_server_its_sidecar_registers_joins_healthy_and_a_re_registration_keeps_the_declared_health()
    {
        var poolId = Scenario.NewId("pool");
        var pool = Grains.GetGrain<IServerPoolGrain>(poolId);
        var joined = await pool.RegisterServer(new ServerDefinition("s-1", "s-1.scheme.test:8583", "a", 5, ServerHealth.Unhealthy), "server-sidecar-1");
        Assert.Equal((ServerHealth.Healthy, 5), (joined.Health, joined.Capacity)); // a sidecar does not declare health

        await pool.SetServerHealth("s-1", ServerHealth.Degraded); // an operator's verdict
        var again = await pool.RegisterServer(new ServerDefinition("s-1", "s-1b.scheme.test:8583", "b", 7), "server-sidecar-1");
        Assert.Equal((ServerHealth.Degraded, "s-1b.scheme.test:8583", "b", 7), (again.Health, again.Address, again.Zone, again.Capacity));
        await Assert.ThrowsAsync<InvalidRequestException>(() => pool.RegisterServer(new ServerDefinition("s-2", "", "a", 1), "server-sidecar-2"));
    }

    [Fact]
    public void The_slot_an_entry_holds_is_its_target_while_migrating_and_none_once_closed()
    {
        Assert.Equal("s-b", AssignmentFact.Of("c", ConnectionStatus.Migrating, "s-a", "s-b").ServerId);
        Assert.Equal("s-a", AssignmentFact.Of("c", ConnectionStatus.Active, "s-a", "s-b").ServerId);
        Assert.Null(AssignmentFact.Of("c", ConnectionStatus.Closed, "s-a", null).ServerId);
        Assert.Null(AssignmentFact.Of("c", ConnectionStatus.Requested, "", null).ServerId);
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
