using Grpc.Core;
using OrleansControl.Contract.V1;
using OrleansControl.Gateway.Tests.Infrastructure;
using static OrleansControl.Gateway.Tests.Infrastructure.GatewayFixture;

namespace OrleansControl.Gateway.Tests;

/// <summary>SidecarService.Attach: heartbeats into the grains, commands out of the outbox, resumption without duplicates.</summary>
[Collection(GatewayCollection.Name)]
public sealed class SidecarStreamTests(GatewayFixture f)
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(1500);

    private async Task<Connection> RegisterOwnAsync(int sidecar, string pool) =>
        (await f.Controller.RegisterConnectionAsync(
            new RegisterConnectionRequest { ClientId = $"client-of-sidecar-{sidecar}", ServerPool = pool, PreferredServer = "srv-0" },
            Sidecar(sidecar))).Connection;

    [Fact]
    public async Task Heartbeats_on_the_stream_reach_the_connection_grain()
    {
        var pool = await f.CreatePoolAsync();
        var c = await RegisterOwnAsync(3, pool);
        var (stream, attached) = await SidecarStream.AttachAsync(f.Sidecars, Sidecar(3), "sidecar-3");
        await using var _ = stream;
        Assert.Equal(5000, attached.HeartbeatIntervalMs);

        await stream.HeartbeatAsync(c.ConnectionId, rttMs: 20);

        var after = await Eventually.Until(
            () => f.Controller.GetConnectionAsync(new GetConnectionRequest { ConnectionId = c.ConnectionId }, Operator).ResponseAsync,
            x => x.LastHeartbeat is not null);
        Assert.Equal(ConnectionStatus.Active, after.Status);
        Assert.InRange(after.HealthScore, 1, 100);
    }

    [Fact]
    public async Task A_server_sidecar_declares_its_server_on_attach_and_bad_declarations_are_refused_on_the_stream()
    {
        var pool = $"declared-{Guid.NewGuid():N}";
        var (stream, _) = await SidecarStream.AttachAsync(f.Sidecars, Sidecar(8), "sidecar-8");
        await using var _ = stream;
        var declaration = new ServerRegistration { ServerPool = pool, ServerId = "srv-d", Address = "10.0.9.1:5000", Zone = "zone-a", Capacity = 20 };
        await stream.SendAsync(new SidecarMessage { ServerRegistration = declaration });
        var listed = await Eventually.Until(() => f.Pools.ListServersAsync(new ListServersRequest { ServerPool = pool }, Operator).ResponseAsync,
            l => l.Servers.Count == 1);
        Assert.Equal(("srv-d", "10.0.9.1:5000", "zone-a", 20, true), (listed.Servers[0].ServerId, listed.Servers[0].Address,
            listed.Servers[0].Zone, listed.Servers[0].Capacity, listed.Servers[0].Healthy));

        // Bad input is answered on the stream, naming the field; the stream goes on.
        await stream.SendAsync(new SidecarMessage { ServerRegistration = new ServerRegistration(declaration) { Capacity = 0 } });
        var rejected = (await stream.NextAsync())!.Rejected;
        Assert.Equal("INVALID_ARGUMENT", rejected.Code);
        Assert.Contains("server_registration.capacity", rejected.Message);
        await stream.SendAsync(new SidecarMessage { ServerRegistration = new ServerRegistration(declaration) { Address = "no-port" } });
        Assert.Contains("server_registration.address", (await stream.NextAsync())!.Rejected.Message);
        await stream.SendAsync(new SidecarMessage { ServerRegistration = new ServerRegistration(declaration) { Capacity = 30 } });
        await Eventually.Until(() => f.Pools.ListServersAsync(new ListServersRequest { ServerPool = pool }, Operator).ResponseAsync,
            l => l.Servers.Single().Capacity == 30);
    }

    [Fact]
    public async Task A_failover_command_reaches_the_owning_sidecar_once_and_is_acknowledged()
    {
        var pool = await f.CreatePoolAsync();
        var c = await RegisterOwnAsync(4, pool);
        var (mine, _) = await SidecarStream.AttachAsync(f.Sidecars, Sidecar(4), "sidecar-4");
        var (other, _) = await SidecarStream.AttachAsync(f.Sidecars, Sidecar(7), "sidecar-7");
        await using var d1 = mine;
        await using var d2 = other;

        await f.Controller.RequestFailoverAsync(new RequestFailoverRequest { ConnectionId = c.ConnectionId, Reason = "drill", IdempotencyKey = "f-1" }, Operator);
        // The same failover requested again (a retry) must not produce a second command.
        await f.Controller.RequestFailoverAsync(new RequestFailoverRequest { ConnectionId = c.ConnectionId, Reason = "drill", IdempotencyKey = "f-1" }, Operator);

        var command = await mine.NextCommandAsync();
        Assert.Equal(CommandKind.ReconnectElsewhere, command.Kind);
        Assert.Equal(c.ConnectionId, command.ConnectionId);
        Assert.Equal("srv-1", command.TargetServerId);
        Assert.Equal("10.0.0.2:5000", command.TargetServerAddress);
        Assert.Equal(1UL, command.Sequence);
        var migrating = await f.Controller.GetConnectionAsync(new GetConnectionRequest { ConnectionId = c.ConnectionId }, Operator);
        Assert.Equal((ConnectionStatus.Migrating, "srv-0", "srv-1"), (migrating.Status, migrating.ServerId, migrating.FailoverTarget));
        await mine.AckAsync(command);

        Assert.Null(await mine.NextAsync(Quiet));
        Assert.Null(await other.NextAsync(TimeSpan.FromMilliseconds(200)));
        // The ack names the server the link signed on at: that, not the command, makes the connection Active there.
        var active = await f.Controller.GetConnectionAsync(new GetConnectionRequest { ConnectionId = c.ConnectionId }, Operator);
        Assert.Equal((ConnectionStatus.Active, "srv-1", "10.0.0.2:5000"), (active.Status, active.ServerId, active.ServerAddress));
    }

    [Fact]
    public async Task A_move_acknowledged_without_a_sign_on_is_not_shown_active()
    {
        var pool = await f.CreatePoolAsync();
        var c = await RegisterOwnAsync(5, pool);
        var (mine, _) = await SidecarStream.AttachAsync(f.Sidecars, Sidecar(5), "sidecar-5");
        await using var d = mine;
        await mine.SignedOnHeartbeatAsync(c.ConnectionId, "10.0.0.1:5000");

        await f.Controller.RequestFailoverAsync(new RequestFailoverRequest { ConnectionId = c.ConnectionId, Reason = "drill", IdempotencyKey = "f-5" }, Operator);
        var command = await mine.NextCommandAsync();
        await mine.SendAsync(new SidecarMessage
        {
            CommandAck = new CommandAck { CommandId = command.CommandId, Sequence = command.Sequence, Success = false, Detail = "connection refused" },
        });

        // srv-1 refused and the pool has no other server: the move is abandoned and the registry says where the
        // link still is (its last heartbeat: signed on at srv-0), never Active on srv-1.
        var state = await Eventually.Until(
            () => f.Controller.GetConnectionAsync(new GetConnectionRequest { ConnectionId = c.ConnectionId }, Operator).ResponseAsync,
            s => s.Status != ConnectionStatus.Migrating);
        Assert.Equal((ConnectionStatus.Active, "srv-0"), (state.Status, state.ServerId));
        var servers = await f.Pools.ListServersAsync(new ListServersRequest { ServerPool = pool }, Operator);
        Assert.True(servers.Servers.Single(x => x.ServerId == "srv-1").Suspect);
    }

    [Fact]
    public async Task A_dropped_stream_gets_its_unacknowledged_commands_exactly_once_after_resuming()
    {
        var pool = await f.CreatePoolAsync();
        var c = await RegisterOwnAsync(8, pool);
        var (first, _) = await SidecarStream.AttachAsync(f.Sidecars, Sidecar(8), "sidecar-8");
        await f.Controller.RequestFailoverAsync(new RequestFailoverRequest { ConnectionId = c.ConnectionId, Reason = "drill", IdempotencyKey = "f-2" }, Operator);
        var sent = await first.NextCommandAsync();
        await first.DisposeAsync(); // dropped before the ack

        // While no stream is attached, another command is issued (an operator closes the connection).
        var now = await f.Controller.GetConnectionAsync(new GetConnectionRequest { ConnectionId = c.ConnectionId }, Operator);
        await f.Controller.UpdateConnectionStateAsync(new UpdateConnectionStateRequest
        {
            ConnectionId = c.ConnectionId,
            State = ConnectionStatus.Closed,
            ExpectedVersion = now.Version,
        }, Operator);

        var (second, attached) = await SidecarStream.AttachAsync(f.Sidecars, Sidecar(8), "sidecar-8");
        await using (second)
        {
            Assert.Equal(2, attached.PendingCommands);
            var resent = await second.NextCommandAsync();
            var signOff = await second.NextCommandAsync();
            Assert.Equal(sent.CommandId, resent.CommandId);
            Assert.Equal(sent.Sequence, resent.Sequence);
            Assert.Equal(CommandKind.SignOff, signOff.Kind);
            Assert.Equal(sent.Sequence + 1, signOff.Sequence);
            Assert.Null(await second.NextAsync(Quiet));
            await second.AckAsync(signOff);
            await Task.Delay(200);
        }

        // An ack drops its own command only: the resent move, never acknowledged, is still pending (a sidecar whose ack
        // of it was lost gets it again), the sign-off is not.
        var (third, again) = await SidecarStream.AttachAsync(f.Sidecars, Sidecar(8), "sidecar-8", lastAcked: 0);
        await using (third)
        {
            Assert.Equal(1, again.PendingCommands);
            Assert.Equal(0UL, again.ResumedAfter);
            var still = await third.NextCommandAsync();
            Assert.Equal(sent.CommandId, still.CommandId);
            Assert.Null(await third.NextAsync(Quiet));
            await third.AckAsync(still);
            await Task.Delay(200);
        }

        // Both acknowledged now: a fourth attach has nothing pending.
        var (fourth, done) = await SidecarStream.AttachAsync(f.Sidecars, Sidecar(8), "sidecar-8", lastAcked: 0);
        await using (fourth)
        {
            Assert.Equal(0, done.PendingCommands);
            Assert.Equal(2UL, done.ResumedAfter);
            Assert.Null(await fourth.NextAsync(Quiet));
        }
    }

    [Fact]
    public async Task Resuming_with_last_acked_sequence_skips_commands_handled_before_the_drop()
    {
        var pool = await f.CreatePoolAsync();
        var c = await RegisterOwnAsync(9, pool);
        var (first, _) = await SidecarStream.AttachAsync(f.Sidecars, Sidecar(9), "sidecar-9");
        await f.Controller.RequestFailoverAsync(new RequestFailoverRequest { ConnectionId = c.ConnectionId, Reason = "drill", IdempotencyKey = "f-3" }, Operator);
        var handled = await first.NextCommandAsync();
        await first.DisposeAsync(); // handled, but the ack was lost with the stream

        var (second, attached) = await SidecarStream.AttachAsync(f.Sidecars, Sidecar(9), "sidecar-9", lastAcked: handled.Sequence);
        await using (second)
        {
            Assert.Equal(0, attached.PendingCommands);
            Assert.Null(await second.NextAsync(Quiet));
        }
    }

    [Fact]
    public async Task A_heartbeat_batch_reaches_every_connection_and_rejects_only_the_bad_entry()
    {
        var pool = await f.CreatePoolAsync();
        var a = await RegisterOwnAsync(5, pool);
        var b = await RegisterOwnAsync(5, pool);
        var (stream, _) = await SidecarStream.AttachAsync(f.Sidecars, Sidecar(5), "sidecar-5");
        await using var _ = stream;

        var batch = new HeartbeatBatch();
        batch.Heartbeats.Add(new Heartbeat { ConnectionId = a.ConnectionId, EchoRttMs = 5 });
        batch.Heartbeats.Add(new Heartbeat { ConnectionId = "not-registered-anywhere", EchoRttMs = 5 });
        batch.Heartbeats.Add(new Heartbeat { ConnectionId = b.ConnectionId, EchoRttMs = 5 });
        await stream.SendAsync(new SidecarMessage { HeartbeatBatch = batch });

        var rejected = await stream.NextAsync();
        Assert.Equal("NOT_FOUND", rejected!.Rejected.Code);
        Assert.Equal("not-registered-anywhere", rejected.Rejected.ConnectionId);
        foreach (var id in new[] { a.ConnectionId, b.ConnectionId })
        {
            await Eventually.Until(
                () => f.Controller.GetConnectionAsync(new GetConnectionRequest { ConnectionId = id }, Operator).ResponseAsync,
                x => x.Status == ConnectionStatus.Active && x.LastHeartbeat is not null);
        }
    }

    [Fact]
    public async Task A_heartbeat_for_an_unknown_connection_is_rejected_and_the_stream_stays_open()
    {
        var (stream, _) = await SidecarStream.AttachAsync(f.Sidecars, Sidecar(6), "sidecar-6");
        await using var _ = stream;
        await stream.HeartbeatAsync("no-such-connection");
        var rejected = await stream.NextAsync();
        Assert.Equal(ControllerMessage.BodyOneofCase.Rejected, rejected!.BodyCase);
        Assert.Equal("NOT_FOUND", rejected.Rejected.Code);

        await stream.HeartbeatAsync("c1", rttMs: -5);
        var invalid = await stream.NextAsync();
        Assert.Equal("INVALID_ARGUMENT", invalid!.Rejected.Code);
        Assert.StartsWith("heartbeat.echo_rtt_ms", invalid.Rejected.Message);
    }

    [Fact]
    public async Task A_heartbeat_for_another_sidecars_connection_ends_the_stream_with_PERMISSION_DENIED()
    {
        var pool = await f.CreatePoolAsync();
        var c = await f.RegisterAsync(pool, sidecarId: "sidecar-1");
        var (stream, _) = await SidecarStream.AttachAsync(f.Sidecars, Sidecar(2), "sidecar-2");
        await using var _ = stream;

        await stream.HeartbeatAsync(c.ConnectionId);

        var e = await Assert.ThrowsAsync<RpcException>(() => stream.NextAsync());
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
    }
}
