using System.Collections.Concurrent;
using Orleans.Streams;
using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.GrainInterfaces.Streams;
using OrleansControl.Grains.Tests.Infrastructure;

namespace OrleansControl.Grains.Tests.Connections;

/// <summary>The failover coordinator's idempotency and its two phases, with the sidecar played by the test.</summary>
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

        Assert.Equal(1, results.Count(r => r.Outcome == FailoverOutcome.Migrating));
        Assert.Equal(FailoverOutcome.Duplicate, results.Single(r => r.Outcome != FailoverOutcome.Migrating).Outcome);
        Assert.Equal(FailoverOutcome.Duplicate, retried.Outcome);
        await Scenario.SignOnAtTargetAsync(Grains, connection);
        var state = await connection.GetState();
        Assert.Single(state.RecentFailovers);
        Assert.Equal(("s-b1", ConnectionStatus.Active), (state.ServerId, state.Status));
        Assert.Equal(4, state.Version); // requested, active, migrating (a working link is not Failed), active
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

        Assert.Equal(1, results.Count(r => r.Outcome == FailoverOutcome.Migrating));
        Assert.All(results.Where(r => r.Outcome != FailoverOutcome.Migrating), r => Assert.Equal(FailoverOutcome.Stale, r.Outcome));
        await Scenario.SignOnAtTargetAsync(Grains, connection);
        var state = await connection.GetState();
        Assert.Equal(ConnectionStatus.Active, state.Status);
        Assert.Single(state.RecentFailovers);
    }

    [Fact]
    public async Task A_link_that_fails_right_after_a_move_fails_over_again()
    {
        await Scenario.TwoZonePoolAsync(Grains, out var poolId);
        var connection = await Scenario.ActiveAsync(Grains, poolId, preferred: "s-a1");
        var failed = new LinkObservation(ObservedLinkState.Failed, null, "closed by peer");
        await connection.ReportLink(failed);
        await Scenario.SignOnAtTargetAsync(Grains, connection);

        // The backup dies a moment later, well within one heartbeat timeout of the move. The sidecar's stream is
        // ordered and the move completed on its own word, so this is news about s-b1, not a late report about s-a1.
        await connection.ReportLink(failed);

        var state = await connection.GetState();
        Assert.Equal(ConnectionStatus.Migrating, state.Status);
        Assert.Equal(2, state.RecentFailovers.Length);
        Assert.Equal(("s-b1", "s-a2"), (state.RecentFailovers[^1].FromServerId, state.RecentFailovers[^1].ToServerId));
    }

    [Fact]
    public async Task A_move_is_active_only_when_the_sidecar_signs_on_at_the_target()
    {
        await Scenario.TwoZonePoolAsync(Grains, out var poolId);
        var connection = await Scenario.ActiveAsync(Grains, poolId, preferred: "s-a1");

        var result = await connection.ReportFailure(new FailureReport("connection refused", "s-a1"));

        Assert.Equal((FailoverOutcome.Migrating, ConnectionStatus.Migrating), (result.Outcome, result.Snapshot.Status));
        var command = (await Scenario.PendingMoveAsync(Grains, connection)).Command;
        Assert.Equal((SidecarCommandKind.ReconnectElsewhere, "s-b1", Scenario.Address("s-b1")), (command.Kind, command.TargetServerId, command.TargetServerAddress));
        Assert.Contains("waiting for sidecar", result.Snapshot.StatusDetail, StringComparison.Ordinal);

        // Heartbeats from the link still reconnecting, or a receipt of an older attempt, change nothing.
        await connection.RecordHeartbeat(Scenario.Reconnecting());
        await connection.CompleteCommand(new CommandReceipt("move-older-attempt", true, "signed on", Scenario.Address("s-b1")));
        Assert.Equal((ConnectionStatus.Migrating, "s-a1"), ((await connection.GetState()).Status, (await connection.GetState()).ServerId));

        // The heartbeat that says "signed on at s-b1" is the evidence.
        var ack = await connection.RecordHeartbeat(Scenario.SignedOnAt(Scenario.Address("s-b1")));
        Assert.Equal((ConnectionStatus.Active, "s-b1"), (ack.Status, ack.ServerId));
        var state = await connection.GetState();
        Assert.Equal(FailoverOutcome.Moved, Assert.Single(state.RecentFailovers).Outcome);
        // The move ended without its command's ack: the command is withdrawn, so a sidecar re-attaching later does not
        // carry out history.
        Assert.DoesNotContain(await Grains.GetGrain<ISidecarOutboxGrain>(state.SidecarId!).GetPending(), p => p.Command.MovesLink);
    }

    [Fact]
    public async Task A_heartbeat_that_says_the_link_failed_starts_the_failover_a_lost_report_would_have()
    {
        await Scenario.TwoZonePoolAsync(Grains, out var poolId);
        var connection = await Scenario.ActiveAsync(Grains, poolId, preferred: "s-a1");

        var ack = await connection.RecordHeartbeat(Scenario.GoodHeartbeat() with { Link = new LinkObservation(ObservedLinkState.Failed, null, "connection refused") });

        Assert.Equal(ConnectionStatus.Migrating, ack.Status);
        var state = await connection.GetState();
        Assert.Equal(("s-a1", "s-b1"), (state.RecentFailovers[^1].FromServerId, state.RecentFailovers[^1].ToServerId));
    }

    [Fact]
    public async Task Without_a_sidecar_a_move_waits_in_migrating_and_is_never_shown_active()
    {
        await Scenario.TwoZonePoolAsync(Grains, out var poolId);
        var connection = await Scenario.RegisterAsync(Grains, poolId, preferred: "s-a1", withSidecar: false);

        var result = await connection.RequestFailover(new FailoverRequest("drill", "no-sidecar-1"));
        await Task.Delay(1500);

        var state = await connection.GetState();
        Assert.Equal((FailoverOutcome.Migrating, ConnectionStatus.Migrating), (result.Outcome, state.Status));
        Assert.Equal("waiting for a sidecar to carry the move to s-b1: none is known for this connection", state.StatusDetail);
        Assert.DoesNotContain(state.RecentTransitions, t => t.To == ConnectionStatus.Active);

        // A sidecar that registers for it picks the move up.
        await connection.Register(new ConnectionRegistration(state.ClientId, poolId, SidecarId: "sidecar-late"));
        var pending = await Grains.GetGrain<ISidecarOutboxGrain>("sidecar-late").GetPending();
        Assert.Equal("s-b1", Assert.Single(pending).Command.TargetServerId);
    }

    [Fact]
    public async Task A_one_server_pool_never_moves_a_link_onto_its_own_server_and_keeps_an_honest_registry()
    {
        var poolId = Scenario.NewId("pool");
        await Scenario.PoolAsync(Grains, poolId, ("s-a1", "a", 5));
        var connection = await Scenario.ActiveAsync(Grains, poolId);
        var before = await connection.GetState();

        // An explicit request on a working link: nothing to move to, nothing changes.
        var result = await connection.RequestFailover(new FailoverRequest("from the control endpoint", "one-server-1"));
        Assert.Equal((FailoverOutcome.NoTarget, ConnectionStatus.Active, before.Version), (result.Outcome, result.Snapshot.Status, result.Snapshot.Version));
        var ack = await connection.RecordHeartbeat(Scenario.SignedOnAt(Scenario.Address("s-a1")));
        Assert.Equal((ConnectionStatus.Active, "s-a1"), (ack.Status, ack.ServerId));

        // The link breaks: Failed, saying why, never "moved" to itself.
        result = await connection.ReportFailure(new FailureReport("connection refused", "s-a1"));
        Assert.Equal((FailoverOutcome.NoTarget, ConnectionStatus.Failed), (result.Outcome, result.Snapshot.Status));
        Assert.StartsWith("no failover target", result.Snapshot.StatusDetail, StringComparison.Ordinal);
        Assert.Empty(await Grains.GetGrain<ISidecarOutboxGrain>(before.SidecarId!).GetPending());

        // The server comes back and the sidecar signs on again by itself: Active, with heartbeats recorded again.
        ack = await connection.RecordHeartbeat(Scenario.SignedOnAt(Scenario.Address("s-a1")));
        var state = await connection.GetState();
        Assert.Equal((ConnectionStatus.Active, "s-a1", ""), (ack.Status, ack.ServerId, state.StatusDetail));
        Assert.True(state.LastHeartbeat > before.LastHeartbeat);
    }

    [Fact]
    public async Task A_registry_that_names_the_wrong_server_follows_the_link()
    {
        await Scenario.TwoZonePoolAsync(Grains, out var poolId);
        var connection = await Scenario.ActiveAsync(Grains, poolId, preferred: "s-a1");
        var provider = fixture.Client.GetStreamProvider(ControllerStreams.ProviderName);
        var events = new ConcurrentQueue<ConnectionStatusChanged>();
        var sub = await provider.GetStream<ConnectionStatusChanged>(ControllerStreams.StatusOf(connection.GetPrimaryKeyString()))
            .SubscribeAsync((e, _) => { events.Enqueue(e); return Task.CompletedTask; });

        // The sidecar is really on s-a2 (it was re-registered after a restart, say): its heartbeat says so.
        var ack = await connection.RecordHeartbeat(Scenario.SignedOnAt(Scenario.Address("s-a2")));

        Assert.Equal((ConnectionStatus.Active, "s-a2"), (ack.Status, ack.ServerId));
        var state = await connection.GetState();
        Assert.Equal(Scenario.Address("s-a2"), state.ServerAddress);
        var pool = await Grains.GetGrain<IServerPoolGrain>(poolId).GetSnapshot();
        Assert.Equal((0, 1), (pool.Servers.Single(s => s.ServerId == "s-a1").Load, pool.Servers.Single(s => s.ServerId == "s-a2").Load));
        // (The registration's own Requested → Active event can still reach a subscriber that came after it: wait for the correction.)
        var correction = await TestSettings.EventuallyAsync(() => Task.FromResult(events.ToArray()),
            e => e.Any(x => x.Reason.StartsWith("registry corrected", StringComparison.Ordinal)), TimeSpan.FromSeconds(5));
        Assert.Contains(correction, e => e.From == e.To && e.ServerId == "s-a2" && e.Reason.StartsWith("registry corrected", StringComparison.Ordinal));

        // The next failover starts from the truth.
        var result = await connection.ReportFailure(new FailureReport("reset", "s-a2"));
        Assert.Equal(("s-a2", FailoverOutcome.Migrating), (result.Record!.FromServerId, result.Outcome));
        Assert.NotEqual("s-a2", result.Record.ToServerId);
        await sub.UnsubscribeAsync();
    }

    [Fact]
    public async Task Move_started_events_and_status_changes_are_published_on_the_streams()
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
        await connection.Register(new ConnectionRegistration(clientId, poolId, "s-a1", SidecarId: Scenario.NewId("sidecar"), Region: "bank"));
        await connection.RecordHeartbeat(Scenario.SignedOnAt(Scenario.Address("s-a1")));
        await connection.RequestFailover(new FailoverRequest("drill", "drill-streams"));
        await Scenario.SignOnAtTargetAsync(Grains, connection);

        var command = await commands.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal((connection.GetPrimaryKeyString(), "s-a1", "s-b1", "s-b1.scheme.test:8583", "drill-streams"),
            (command.ConnectionId, command.FromServerId, command.ToServerId, command.ToServerAddress, command.IdempotencyKey));
        var seen = await TestSettings.EventuallyAsync(() => Task.FromResult(statuses.ToList()), s => s.Count >= 4, TimeSpan.FromSeconds(10));
        Assert.Equal([ConnectionStatus.Requested, ConnectionStatus.Active, ConnectionStatus.Migrating, ConnectionStatus.Active], seen.Select(s => s.To));
        Assert.All(seen, s => Assert.Equal("bank", s.Region));
        Assert.Equal("s-b1", seen[^1].ServerId);

        await commandSub.UnsubscribeAsync();
        await statusSub.UnsubscribeAsync();
    }
}
