using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Errors;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.Grains.Tests.Infrastructure;

namespace OrleansControl.Grains.Tests.Connections;

[Collection(SingleSiloCollection.Name)]
public sealed class TransitionTests(SingleSiloFixture fixture)
{
    private IGrainFactory Grains => fixture.Client;

    public static TheoryData<ConnectionStatus, ConnectionStatus> AllOperatorMoves()
    {
        var data = new TheoryData<ConnectionStatus, ConnectionStatus>();
        foreach (var from in new[] { ConnectionStatus.Requested, ConnectionStatus.Active, ConnectionStatus.Degraded, ConnectionStatus.Failed, ConnectionStatus.Closed })
            foreach (var to in Enum.GetValues<ConnectionStatus>())
                data.Add(from, to);
        return data;
    }

    [Theory]
    [MemberData(nameof(AllOperatorMoves))]
    public async Task Operator_transition_is_applied_only_when_legal(ConnectionStatus from, ConnectionStatus to)
    {
        await Scenario.TwoZonePoolAsync(Grains, out var poolId);
        var connection = await DriveToAsync(poolId, from);
        var before = await connection.GetState();
        Assert.Equal(from, before.Status);

        // Operators never enter Migrating (only a failover does) nor Active (only the sidecar's sign-on does, but a
        // Degraded connection may be declared healthy again).
        var legal = ConnectionTransitions.IsLegal(from, to) && to is not (ConnectionStatus.Migrating or ConnectionStatus.Unknown)
            && (to != ConnectionStatus.Active || from == ConnectionStatus.Degraded);
        if (legal)
        {
            var after = await connection.TransitionTo(to, before.Version, "test");
            Assert.Equal(to, after.Status);
            Assert.Equal(before.Version + 1, after.Version);
            var last = after.RecentTransitions[^1];
            Assert.Equal((from, to, after.Version), (last.From, last.To, last.Version));
            Assert.Contains("test", last.Reason, StringComparison.Ordinal);
        }
        else
        {
            var error = await Assert.ThrowsAsync<IllegalTransitionException>(() => connection.TransitionTo(to, before.Version, "test"));
            Assert.Equal((from, to), (error.From, error.To));
            var after = await connection.GetState();
            Assert.Equal((from, before.Version), (after.Status, after.Version));
        }
    }

    [Fact]
    public async Task Stale_version_is_a_conflict_and_changes_nothing()
    {
        await Scenario.TwoZonePoolAsync(Grains, out var poolId);
        var connection = await Scenario.ActiveAsync(Grains, poolId);
        var state = await connection.GetState();

        var error = await Assert.ThrowsAsync<VersionConflictException>(() => connection.TransitionTo(ConnectionStatus.Closed, state.Version - 1, "stale"));
        Assert.Equal((state.Version - 1, state.Version), (error.Expected, error.Actual));
        Assert.Equal(ConnectionStatus.Active, (await connection.GetState()).Status);
    }

    [Fact]
    public async Task Heartbeats_drive_requested_active_degraded_and_back()
    {
        await Scenario.TwoZonePoolAsync(Grains, out var poolId);
        var connection = await Scenario.RegisterAsync(Grains, poolId);

        var ack = await connection.RecordHeartbeat(Scenario.GoodHeartbeat());
        Assert.Equal((ConnectionStatus.Active, 100), (ack.Status, ack.HealthScore));
        ack = await connection.RecordHeartbeat(Scenario.BadHeartbeat());
        Assert.Equal((ConnectionStatus.Degraded, 0), (ack.Status, ack.HealthScore));
        ack = await connection.RecordHeartbeat(Scenario.GoodHeartbeat());
        Assert.Equal(ConnectionStatus.Active, ack.Status);

        var state = await connection.GetState();
        Assert.Equal(
            [ConnectionStatus.Requested, ConnectionStatus.Active, ConnectionStatus.Degraded, ConnectionStatus.Active],
            state.RecentTransitions.Select(t => t.To));
        Assert.Equal(4, state.Version);
        Assert.NotNull(state.LastHeartbeat);
    }

    [Fact]
    public async Task Health_reports_move_between_active_and_degraded_only()
    {
        await Scenario.TwoZonePoolAsync(Grains, out var poolId);
        var connection = await Scenario.RegisterAsync(Grains, poolId);
        await Assert.ThrowsAsync<IllegalTransitionException>(() => connection.ReportHealth(new HealthReport(ReportedHealth.Degraded, "slow")));
        await connection.RecordHeartbeat(Scenario.GoodHeartbeat());
        Assert.Equal(ConnectionStatus.Degraded, (await connection.ReportHealth(new HealthReport(ReportedHealth.Degraded, "slow"))).Status);
        Assert.Equal(ConnectionStatus.Active, (await connection.ReportHealth(new HealthReport(ReportedHealth.Healthy, "ok"))).Status);
    }

    [Fact]
    public async Task Registration_is_idempotent_per_client_and_typed_errors_otherwise()
    {
        await Scenario.TwoZonePoolAsync(Grains, out var poolId);
        var id = Scenario.NewId("conn");
        var connection = Grains.GetGrain<IConnectionGrain>(id);
        await Assert.ThrowsAsync<ConnectionNotFoundException>(() => connection.GetState());

        var first = await connection.Register(new ConnectionRegistration("bank-1", poolId));
        var again = await connection.Register(new ConnectionRegistration("bank-1", poolId));
        Assert.Equal((first.ServerId, first.Version), (again.ServerId, again.Version));
        var taken = await Assert.ThrowsAsync<ConnectionAlreadyExistsException>(() => connection.Register(new ConnectionRegistration("bank-2", poolId)));
        Assert.Equal("bank-1", taken.ExistingClientId);

        await connection.TransitionTo(ConnectionStatus.Closed, first.Version, "done");
        await Assert.ThrowsAsync<IllegalTransitionException>(() => connection.Register(new ConnectionRegistration("bank-1", poolId)));
        Assert.Equal(0, (await Grains.GetGrain<IServerPoolGrain>(poolId).GetSnapshot()).TotalLoad); // closing released the slot
    }

    [Fact]
    public async Task Transition_history_keeps_the_last_twenty()
    {
        await Scenario.TwoZonePoolAsync(Grains, out var poolId);
        var connection = await Scenario.ActiveAsync(Grains, poolId);
        for (var i = 0; i < 15; i++)
        {
            await connection.ReportHealth(new HealthReport(ReportedHealth.Degraded, "x"));
            await connection.ReportHealth(new HealthReport(ReportedHealth.Healthy, "y"));
        }
        var state = await connection.GetState();
        Assert.Equal(32, state.Version);
        Assert.Equal(20, state.RecentTransitions.Length);
        Assert.Equal(32, state.RecentTransitions[^1].Version);
    }

    private async Task<IConnectionGrain> DriveToAsync(string poolId, ConnectionStatus status)
    {
        var connection = await Scenario.RegisterAsync(Grains, poolId);
        if (status == ConnectionStatus.Requested)
            return connection;
        if (status == ConnectionStatus.Closed)
        {
            await connection.TransitionTo(ConnectionStatus.Closed, 1, "setup");
            return connection;
        }
        await connection.RecordHeartbeat(Scenario.GoodHeartbeat());
        if (status == ConnectionStatus.Degraded)
            await connection.ReportHealth(new HealthReport(ReportedHealth.Degraded, "setup"));
        if (status == ConnectionStatus.Failed)
            await connection.TransitionTo(ConnectionStatus.Failed, 2, "setup");
        return connection;
    }
}
