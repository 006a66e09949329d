using System.Collections.Concurrent;
using Orleans.Streams;
using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.GrainInterfaces.Streams;
using OrleansControl.Grains.Tests.Infrastructure;

namespace OrleansControl.Grains.Tests.Connections;

[Collection(SingleSiloCollection.Name)]
public sealed class FailoverTests(SingleSiloFixture fixture)
{
    private IGrainFactory Grains => fixture.Client;

    [Fact]
    public async Task The_same_failover_request_twice_moves_the_connection_once()
    {
        await Scenario.TwoZonePoolAsync(Grains, out var poolId);
        var connection = await Scenario.ActiveAsync(Grains, poolId, preferred: "s-a1");
        var request = new FailoverRequest("operator drill", "drill-1");

        var results = await Task.WhenAll(connection.RequestFailover(request), connection.RequestFailover(request));
        var retried = await connection.RequestFailover(request);

        Assert.Equal(1, results.Count(r => r.Outcome == FailoverOutcome.Moved));
        Assert.Equal(FailoverOutcome.Duplicate, results.Single(r => r.Outcome != FailoverOutcome.Moved).Outcome);
        Assert.Equal(FailoverOutcome.Duplicate, retried.Outcome);
        var state = await connection.GetState();
        Assert.Single(state.RecentFailovers);
        Assert.Equal("s-b1", state.ServerId);
        Assert.Equal(5, state.Version); // requested, active, failed, migrating, active
        Assert.Equal(1, (await Grains.GetGrain<IServerPoolGrain>(poolId).GetSnapshot()).TotalLoad);
    }

    [Fact]
    public async Task Two_detectors_at_once_move_the_connection_once()
    {
        await Scenario.TwoZonePoolAsync(Grains, out var poolId);
        var connection = await Scenario.ActiveAsync(Grains, poolId, preferred: "s-a1");

        var results = await Task.WhenAll(
            connection.ReportFailure(new FailureReport("socket reset", "s-a1")),
            connection.RequestFailover(new FailoverRequest("gateway saw echo timeouts", "gw-42", FailedServerId: "s-a1")),
            connection.ReportFailure(new FailureReport("socket reset")));

        Assert.Equal(1, results.Count(r => r.Outcome == FailoverOutcome.Moved));
        Assert.All(results.Where(r => r.Outcome != FailoverOutcome.Moved), r => Assert.Equal(FailoverOutcome.Stale, r.Outcome));
        var state = await connection.GetState();
        Assert.Equal(ConnectionStatus.Active, state.Status);
        Assert.Single(state.RecentFailovers);
    }

    [Fact]
    public async Task Failover_commands_and_status_changes_are_published_on_the_streams()
    {
        await Scenario.TwoZonePoolAsync(Grains, out var poolId);
        var clientId = Scenario.NewId("bank");
        var provider = fixture.Client.GetStreamProvider(ControllerStreams.ProviderName);
        var commands = new TaskCompletionSource<FailoverCommand>(TaskCreationOptions.RunContinuationsAsynchronously);
        var statuses = new ConcurrentQueue<ConnectionStatusChanged>();
        var commandSub = await provider.GetStream<FailoverCommand>(ControllerStreams.FailoverCommandsFor(clientId))
            .SubscribeAsync((c, _) => { commands.TrySetResult(c); return Task.CompletedTask; });

        var connection = Grains.GetGrain<IConnectionGrain>(Scenario.NewId("conn"));
        var statusSub = await provider.GetStream<ConnectionStatusChanged>(ControllerStreams.StatusOf(connection.GetPrimaryKeyString()))
            .SubscribeAsync((e, _) => { statuses.Enqueue(e); return Task.CompletedTask; });
        await connection.Register(new ConnectionRegistration(clientId, poolId, "s-a1"));
        await connection.RecordHeartbeat(Scenario.GoodHeartbeat());
        await connection.RequestFailover(new FailoverRequest("drill", "drill-streams"));

        var command = await commands.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal((connection.GetPrimaryKeyString(), "s-a1", "s-b1", "s-b1.scheme.test:8583", "drill-streams"),
            (command.ConnectionId, command.FromServerId, command.ToServerId, command.ToServerAddress, command.IdempotencyKey));
        var seen = await TestSettings.EventuallyAsync(() => Task.FromResult(statuses.Select(s => s.To).ToList()), s => s.Count >= 5, TimeSpan.FromSeconds(10));
        Assert.Equal([ConnectionStatus.Requested, ConnectionStatus.Active, ConnectionStatus.Failed, ConnectionStatus.Migrating, ConnectionStatus.Active], seen);

        await commandSub.UnsubscribeAsync();
        await statusSub.UnsubscribeAsync();
    }
}
