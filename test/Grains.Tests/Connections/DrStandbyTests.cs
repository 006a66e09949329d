using System.Collections.Concurrent;
using System.Collections.Immutable;
using Orleans.Streams;
using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.GrainInterfaces.Streams;
using OrleansControl.Grains.Tests.Infrastructure;

namespace OrleansControl.Grains.Tests.Connections;

/// <summary>
/// The server side decides what a client's silence means, and a dead client fails over to its DR standby
/// (docs/grains.md, "Absence is not failure", "The client side fails over too"). The server-side sidecar is played by
/// <see cref="ServerSide"/>, which reports the sessions its server holds every 300 ms, as the real one does.
/// </summary>
[Collection(StandbyCollection.Name)]
public sealed class DrStandbyTests(StandbyFixture fixture)
{
    private const string ClientEnd = "10.20.0.7:41001";
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(20);

    private IClusterClient Grains => fixture.Client;

    [Fact]
    public async Task A_silent_client_whose_server_still_holds_its_session_is_unknown_not_moved_and_no_standby_takes_over()
    {
        var (connection, poolId, primary) = await ActiveWithClientEndAsync();
        var standby = Scenario.NewId("dr");
        await using var standbyStream = await Scenario.AttachSidecarAsync(Grains, standby);
        await connection.Register(await StandbyOf(connection, standby));
        await using var server = new ServerSide(Grains, poolId, "s-a1", ClientEnd);

        // The client sidecar stops beating (its control path is cut); the server still holds its session.
        var state = await TestSettings.EventuallyAsync(connection.GetState, s => s.Status != ConnectionStatus.Active, Within);
        await Task.Delay(TimeSpan.FromSeconds(3)); // and nothing else happens after it

        state = await connection.GetState();
        Assert.Equal((ConnectionStatus.Unknown, "s-a1", primary), (state.Status, state.ServerId, state.SidecarId));
        Assert.Contains("still holds its session", state.StatusDetail, StringComparison.Ordinal);
        Assert.Contains("not moved", state.StatusDetail, StringComparison.Ordinal);
        Assert.Empty(state.RecentFailovers);
        Assert.Null(state.Activation);
        Assert.Empty(await Grains.GetGrain<ISidecarOutboxGrain>(standby).GetPending());
        Assert.DoesNotContain(await Grains.GetGrain<ISidecarOutboxGrain>(primary).GetPending(), p => p.Command.MovesLink);

        // The control path comes back: the client's heartbeat makes it Active where it was.
        var ack = await connection.RecordHeartbeat(Beat(primary, "s-a1"));
        Assert.Equal((ConnectionStatus.Active, "s-a1"), (ack.Status, ack.ServerId));
    }

    [Fact]
    public async Task A_silent_client_whose_session_is_gone_is_taken_over_by_its_standby_only_once_the_standby_signed_on()
    {
        var (connection, poolId, primary) = await ActiveWithClientEndAsync();
        var standby = Scenario.NewId("dr");
        await using var standbyStream = await Scenario.AttachSidecarAsync(Grains, standby);
        var registered = await connection.Register(await StandbyOf(connection, standby));
        Assert.True(registered.IsStandby(standby));
        var events = new ConcurrentQueue<ClientDrActivated>();
        var subscription = await Grains.GetStreamProvider(ControllerStreams.ProviderName)
            .GetStream<ClientDrActivated>(ControllerStreams.ClientFailoverOf(registered.ConnectionId))
            .SubscribeAsync((e, _) => { events.Enqueue(e); return Task.CompletedTask; });
        // The client process died: its sidecar is silent and the server no longer holds its session.
        await using var server = new ServerSide(Grains, poolId, "s-a1");

        var state = await TestSettings.EventuallyAsync(connection.GetState, s => s.Activation is not null, Within);

        // Phase 1: the standby has the assignment; the registry still names the dead client and says what it waits for.
        Assert.Equal((ConnectionStatus.Failed, primary, standby), (state.Status, state.SidecarId, state.Activation!.SidecarId));
        Assert.Contains("no longer holds its session", state.StatusDetail, StringComparison.Ordinal);
        Assert.Contains($"activating standby {standby}", state.StatusDetail, StringComparison.Ordinal);
        var connect = Assert.Single(await Grains.GetGrain<ISidecarOutboxGrain>(standby).GetPending()).Command;
        Assert.Equal((SidecarCommandKind.Connect, Scenario.Address("s-a1"), state.ConnectionId), (connect.Kind, connect.TargetServerAddress, connect.ConnectionId));
        Assert.Empty(state.RecentFailovers); // no server was moved away from: the server was fine

        // Connecting is not signed on; nor is the dead client's word (or any other sidecar's) evidence.
        await connection.RecordHeartbeat(Scenario.Reconnecting() with { Link = new LinkObservation(ObservedLinkState.Connecting, null, ObservedBy: standby) });
        await connection.RecordHeartbeat(Beat(Scenario.NewId("stranger"), "s-a1"));
        state = await connection.GetState();
        Assert.Equal((ConnectionStatus.Failed, primary), (state.Status, state.SidecarId));

        // Phase 2: the standby's heartbeat says it signed on: only now is the connection on the DR client.
        var ack = await connection.RecordHeartbeat(Beat(standby, "s-a1", "10.30.0.9:52000"));
        state = await connection.GetState();
        Assert.Equal((ConnectionStatus.Active, "s-a1", standby), (ack.Status, ack.ServerId, state.SidecarId));
        Assert.Null(state.Activation);
        var former = Assert.Single(state.Standbys);
        Assert.Equal((primary, true), (former.SidecarId, former.FormerPrimary));
        Assert.Contains(state.RecentTransitions, t => t.To == ConnectionStatus.Active && t.Reason.StartsWith("activate-dr-client", StringComparison.Ordinal));
        var pool = await Grains.GetGrain<IServerPoolGrain>(poolId).GetSnapshot();
        Assert.Equal(1, pool.Servers.Single(s => s.ServerId == "s-a1").Load);
        Assert.All(pool.Servers, s => Assert.False(s.Suspect));

        var published = await TestSettings.EventuallyAsync(() => Task.FromResult(events.ToArray()), e => e.Length > 0, TimeSpan.FromSeconds(10));
        var activated = Assert.Single(published);
        Assert.Equal((primary, standby, "s-a1", state.Version), (activated.FromSidecarId, activated.ToSidecarId, activated.ServerId, activated.Version));
        await subscription.UnsubscribeAsync();
    }

    [Fact]
    public async Task A_former_primary_that_comes_back_joins_as_standby_and_does_not_take_the_link_back()
    {
        var (connection, poolId, primary) = await ActiveWithClientEndAsync();
        var standby = Scenario.NewId("dr");
        await using var standbyStream = await Scenario.AttachSidecarAsync(Grains, standby);
        await connection.Register(await StandbyOf(connection, standby));
        await using (new ServerSide(Grains, poolId, "s-a1"))
        {
            await TestSettings.EventuallyAsync(connection.GetState, s => s.Activation is not null, Within);
            await connection.RecordHeartbeat(Beat(standby, "s-a1", "10.30.0.9:52000"));
        }
        var taken = await connection.GetState();
        Assert.Equal((ConnectionStatus.Active, standby), (taken.Status, taken.SidecarId));

        // The old primary restarts: it registers as it always did (not as a standby) and is told it is one.
        await using var primaryStream = await Scenario.AttachSidecarAsync(Grains, primary);
        var back = await connection.Register(new ConnectionRegistration(taken.ClientId, poolId, SidecarId: primary));
        Assert.Equal(standby, back.SidecarId);
        Assert.True(back.IsStandby(primary));
        // Even if it heartbeats as if signed on, its word is not evidence; the DR client keeps beating and stays.
        for (var i = 0; i < 4; i++)
        {
            await connection.RecordHeartbeat(Beat(primary, "s-a2", ClientEnd));
            await connection.RecordHeartbeat(Beat(standby, "s-a1", "10.30.0.9:52000"));
            await Task.Delay(500);
        }
        var state = await connection.GetState();
        Assert.Equal((ConnectionStatus.Active, "s-a1", standby, taken.Version), (state.Status, state.ServerId, state.SidecarId, state.Version));
        Assert.DoesNotContain(await Grains.GetGrain<ISidecarOutboxGrain>(primary).GetPending(), p => p.Command.MovesLink);
    }

    [Fact]
    public async Task A_client_judged_dead_that_signs_on_again_while_its_standby_connects_is_stood_down_never_two_links()
    {
        var (connection, poolId, primary) = await ActiveWithClientEndAsync();
        var standby = Scenario.NewId("dr");
        await using var standbyStream = await Scenario.AttachSidecarAsync(Grains, standby);
        await connection.Register(await StandbyOf(connection, standby));
        await using (new ServerSide(Grains, poolId, "s-a1"))
            await TestSettings.EventuallyAsync(connection.GetState, s => s.Activation is not null, Within);
        var connect = Assert.Single(await Grains.GetGrain<ISidecarOutboxGrain>(standby).GetPending()).Command;

        // The client judged dead was only cut off: it comes back signed on while the standby carries out its CONNECT.
        // The activation is not dropped (the CONNECT may have run: withdrawing it could not close that link).
        await connection.ReportLink(new LinkObservation(ObservedLinkState.SignedOn, Scenario.Address("s-a1"), ObservedBy: primary, LocalAddress: ClientEnd));
        await connection.RecordHeartbeat(Beat(primary, "s-a1"));
        var state = await connection.GetState();
        Assert.Equal((ConnectionStatus.Failed, primary, standby), (state.Status, state.SidecarId, state.Activation?.SidecarId));
        Assert.Contains(await Grains.GetGrain<ISidecarOutboxGrain>(standby).GetPending(), p => p.Command.CommandId == connect.CommandId);

        // The standby signs on: it carries the link; the old primary is a standby and is told to sign off.
        await connection.CompleteCommand(new CommandReceipt(connect.CommandId, true, "signed on", Scenario.Address("s-a1")));
        state = await connection.GetState();
        Assert.Equal((ConnectionStatus.Active, standby), (state.Status, state.SidecarId));
        Assert.Contains(state.Standbys, s => s.SidecarId == primary && s.FormerPrimary);
        var signOff = Assert.Single(await Grains.GetGrain<ISidecarOutboxGrain>(primary).GetPending(),
            p => p.Command.Kind == SidecarCommandKind.SignOff && p.Command.ConnectionId == state.ConnectionId).Command;
        Assert.StartsWith("standby now", signOff.Reason, StringComparison.Ordinal);
        Assert.True(signOff.Deadline > DateTimeOffset.UtcNow.AddHours(1)); // it waits for the old primary to attach
        // Its word still moves nothing: one link, the standby's.
        await connection.RecordHeartbeat(Beat(primary, "s-a1"));
        Assert.Equal((ConnectionStatus.Active, standby), ((await connection.GetState()).Status, (await connection.GetState()).SidecarId));
        var pool = await Grains.GetGrain<IServerPoolGrain>(poolId).GetSnapshot();
        Assert.Equal(1, pool.Servers.Single(s => s.ServerId == "s-a1").Load);
    }

    [Fact]
    public async Task A_client_judged_dead_gets_the_link_back_only_once_no_standby_could_be_activated()
    {
        var (connection, poolId, primary) = await ActiveWithClientEndAsync();
        var slow = Scenario.NewId("dr");
        await using var slowStream = await Scenario.AttachSidecarAsync(Grains, slow);
        await connection.Register(await StandbyOf(connection, slow));
        await using (new ServerSide(Grains, poolId, "s-a1"))
            await TestSettings.EventuallyAsync(connection.GetState, s => s.Activation is not null, Within);

        // The primary is back during the activation: not evidence while it runs.
        await connection.RecordHeartbeat(Beat(primary, "s-a1"));
        Assert.Equal(slow, (await connection.GetState()).Activation?.SidecarId);
        // The standby never signs on (10 s deadline): none left, so the primary's next sign-on is evidence again.
        await TestSettings.EventuallyAsync(connection.GetState, s => s.Activation is null, Within);
        await connection.RecordHeartbeat(Beat(primary, "s-a1"));
        var state = await connection.GetState();
        Assert.Equal((ConnectionStatus.Active, primary, "s-a1"), (state.Status, state.SidecarId, state.ServerId));
        Assert.Empty(await Grains.GetGrain<ISidecarOutboxGrain>(slow).GetPending());
    }

    [Fact]
    public async Task Without_a_standby_a_dead_client_is_failed_with_the_reason_and_no_server_is_moved_or_blamed()
    {
        var (connection, poolId, primary) = await ActiveWithClientEndAsync();
        await using var server = new ServerSide(Grains, poolId, "s-a1");

        var state = await TestSettings.EventuallyAsync(connection.GetState, s => s.Status != ConnectionStatus.Active, Within);
        await Task.Delay(TimeSpan.FromSeconds(2));

        state = await connection.GetState();
        Assert.Equal((ConnectionStatus.Failed, "s-a1", primary), (state.Status, state.ServerId, state.SidecarId));
        Assert.Contains("no longer holds its session", state.StatusDetail, StringComparison.Ordinal);
        Assert.Contains("no standby client registered", state.StatusDetail, StringComparison.Ordinal);
        Assert.Empty(state.RecentFailovers);
        Assert.DoesNotContain(await Grains.GetGrain<ISidecarOutboxGrain>(primary).GetPending(), p => p.Command.MovesLink);
        var pool = await Grains.GetGrain<IServerPoolGrain>(poolId).GetSnapshot();
        Assert.All(pool.Servers, s => Assert.False(s.Suspect));

        // A standby that registers now is the way back: it is activated at once.
        var standby = Scenario.NewId("dr");
        await using var standbyStream = await Scenario.AttachSidecarAsync(Grains, standby);
        state = await connection.Register(await StandbyOf(connection, standby));
        Assert.Equal((ConnectionStatus.Failed, standby), (state.Status, state.Activation?.SidecarId));
    }

    [Fact]
    public async Task A_standby_that_is_not_attached_is_skipped_and_one_that_does_not_sign_on_in_time_gives_way_to_the_next()
    {
        var (connection, poolId, _) = await ActiveWithClientEndAsync();
        var detached = Scenario.NewId("dr");
        var slow = Scenario.NewId("dr");
        var last = Scenario.NewId("dr");
        await connection.Register(await StandbyOf(connection, detached)); // its stream is not attached
        await using var slowStream = await Scenario.AttachSidecarAsync(Grains, slow);
        await using var lastStream = await Scenario.AttachSidecarAsync(Grains, last);
        await connection.Register(await StandbyOf(connection, slow));
        await connection.Register(await StandbyOf(connection, last));
        await using var server = new ServerSide(Grains, poolId, "s-a1");

        var first = await TestSettings.EventuallyAsync(connection.GetState, s => s.Activation is not null, Within);
        Assert.Equal(slow, first.Activation!.SidecarId);
        // slow never signs on: after the 5 s deadline the next one is told, and slow's command is withdrawn.
        var next = await TestSettings.EventuallyAsync(connection.GetState, s => s.Activation?.SidecarId == last, Within);
        Assert.Equal(ConnectionStatus.Failed, next.Status);
        Assert.Empty(await Grains.GetGrain<ISidecarOutboxGrain>(slow).GetPending());
        await connection.CompleteCommand(new CommandReceipt(next.Activation!.CommandId, true, "signed on", Scenario.Address("s-a1")));

        var state = await connection.GetState();
        Assert.Equal((ConnectionStatus.Active, last), (state.Status, state.SidecarId));
    }

    /// <summary>An Active connection whose heartbeats named the client's end of the link, then stopped.</summary>
    private async Task<(IConnectionGrain Connection, string PoolId, string Primary)> ActiveWithClientEndAsync()
    {
        await Scenario.TwoZonePoolAsync(Grains, out var poolId);
        var connection = await Scenario.RegisterAsync(Grains, poolId, preferred: "s-a1");
        var primary = (await connection.GetState()).SidecarId!;
        await connection.RecordHeartbeat(Beat(primary, "s-a1", ClientEnd));
        return (connection, poolId, primary);
    }

    private static Heartbeat Beat(string sidecar, string server, string clientEnd = ClientEnd) => Scenario.GoodHeartbeat() with
    {
        Link = new LinkObservation(ObservedLinkState.SignedOn, Scenario.Address(server), ObservedBy: sidecar, LocalAddress: clientEnd),
    };

    private static async Task<ConnectionRegistration> StandbyOf(IConnectionGrain connection, string sidecar)
    {
        var state = await connection.GetState();
        return new ConnectionRegistration(state.ClientId, state.ServerPool, SidecarId: sidecar, Region: "dr", Standby: true);
    }

    /// <summary>Plays a server's sidecar: reports the sessions the server holds every 300 ms until disposed.</summary>
    private sealed class ServerSide : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _reporting;

        public ServerSide(IClusterClient client, string poolId, string serverId, params string[] clientEnds)
        {
            var grain = client.GetGrain<IServerSessionsGrain>(IServerSessionsGrain.KeyOf(poolId, serverId));
            var sessions = clientEnds.Select(e => new HeldSession(e, "12345", true, DateTimeOffset.UtcNow)).ToImmutableArray();
            _reporting = Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    try { await grain.Report(new ServerSessionReport(serverId, Scenario.Address(serverId), $"{serverId}-sidecar", sessions)); }
                    catch (Exception) { /* the next report */ }
                    try { await Task.Delay(300, _stop.Token); } catch (OperationCanceledException) { }
                }
            });
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _reporting;
        }
    }
}
