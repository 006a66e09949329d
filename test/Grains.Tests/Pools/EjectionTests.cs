using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.Grains.Tests.Infrastructure;

namespace OrleansControl.Grains.Tests.Pools;

/// <summary>The pool learns from its connections that a server died, and from a sign-on that it is back.</summary>
[Collection(SingleSiloCollection.Name)]
public sealed class EjectionTests(SingleSiloFixture fixture)
{
    private IGrainFactory Grains => fixture.Client;

    [Fact]
    public async Task A_server_a_connection_reported_failed_is_never_assigned_nor_chosen_as_a_target()
    {
        await Scenario.TwoZonePoolAsync(Grains, out var poolId);
        var pool = Grains.GetGrain<IServerPoolGrain>(poolId);
        var victim = await Scenario.ActiveAsync(Grains, poolId, preferred: "s-a1");

        await victim.ReportFailure(new FailureReport("connection refused", "s-a1"));

        var a1 = (await pool.GetSnapshot()).Servers.Single(s => s.ServerId == "s-a1");
        Assert.True(a1.Suspect);
        Assert.NotNull(a1.EjectedUntil);
        Assert.Contains("connection refused", a1.HealthDetail, StringComparison.Ordinal);
        for (var i = 0; i < 5; i++)
        {
            var registered = await Scenario.RegisterAsync(Grains, poolId, preferred: "s-a1");
            Assert.NotEqual("s-a1", (await registered.GetState()).ServerId);
            var moved = await (await Scenario.ActiveAsync(Grains, poolId, preferred: "s-b1")).ReportFailure(new FailureReport("drill", "s-b1"));
            Assert.NotEqual("s-a1", moved.Record?.ToServerId);
        }
    }

    [Fact]
    public async Task A_sign_on_at_a_suspect_server_reinstates_it()
    {
        await Scenario.TwoZonePoolAsync(Grains, out var poolId);
        var pool = Grains.GetGrain<IServerPoolGrain>(poolId);
        var other = await Scenario.RegisterAsync(Grains, poolId, preferred: "s-a1");
        var victim = await Scenario.ActiveAsync(Grains, poolId, preferred: "s-a1");
        await victim.ReportFailure(new FailureReport("connection refused", "s-a1"));
        Assert.True((await pool.GetSnapshot()).Servers.Single(s => s.ServerId == "s-a1").Suspect);

        // Another connection signs on at s-a1 (the server restarted): evidence that it works.
        await other.RecordHeartbeat(Scenario.SignedOnAt(Scenario.Address("s-a1")));

        var state = await other.GetState();
        Assert.Equal((ConnectionStatus.Active, "s-a1"), (state.Status, state.ServerId));
        Assert.False((await pool.GetSnapshot()).Servers.Single(s => s.ServerId == "s-a1").Suspect);
    }

    [Fact]
    public async Task Evidence_never_ejects_the_last_usable_server()
    {
        var poolId = Scenario.NewId("pool");
        var pool = await Scenario.PoolAsync(Grains, poolId, ("s-a1", "a", 5), ("s-b1", "b", 5));

        await pool.ReportServerFailure(new ServerFailureReport("s-a1", "c-1", "refused"));
        await pool.ReportServerFailure(new ServerFailureReport("s-b1", "c-2", "refused"));

        var servers = (await pool.GetSnapshot()).Servers;
        Assert.Equal(1, servers.Count(s => s.Suspect));
        Assert.False(servers.Single(s => s.ServerId == "s-b1").Suspect);
    }
}
