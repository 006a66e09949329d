using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using OrleansControl.Contract.V1;
using OrleansControl.GrainInterfaces;
using FailoverOutcome = OrleansControl.GrainInterfaces.Models.FailoverOutcome;
using OrleansControl.Gateway.Tests.Infrastructure;
using static OrleansControl.Gateway.Tests.Infrastructure.GatewayFixture;
using ConnectionStatus = OrleansControl.Contract.V1.ConnectionStatus;

namespace OrleansControl.Gateway.Tests;

/// <summary>
/// A command's acknowledgement whose grain calls fail (the connection grain's or the outbox's silo cannot be reached:
/// SiloUnavailableException, thrown by an outgoing call filter on the gateway's silo as Orleans throws it) reaches both
/// at least once and is applied once: rejected UNAVAILABLE naming its sequence, applied when sent again, and the command
/// stays pending so a re-attach brings it back (issue 15: the connection grain never learned a move's outcome).
/// </summary>
public sealed class AckDeliveryTests : UnreachableGrainsTests
{
    [Fact]
    public async Task An_ack_whose_receipt_cannot_reach_the_connection_is_rejected_retryable_and_applied_once_when_sent_again()
    {
        var (connection, stream) = await AttachedAsync(3);
        await using var _ = stream;
        var move = await MoveAsync(connection, "r-1", stream);

        Unreachable.FailOnce<IConnectionGrain>(nameof(IConnectionGrain.CompleteCommand), connection.ConnectionId);
        await stream.AckAsync(move);
        var rejected = await NextRejectionAsync(stream);
        Assert.Equal("UNAVAILABLE", rejected.Code);
        Assert.Equal(move.Sequence, rejected.CommandAckSequence);
        Assert.Equal(connection.ConnectionId, rejected.ConnectionId);
        Assert.Equal(1, Unreachable.Failed);
        // Nothing was applied: the move is still under way and still pending in the outbox.
        Assert.Equal(ConnectionStatus.Migrating, (await GetAsync(connection)).Status);
        Assert.Contains(await Grains.GetGrain<ISidecarOutboxGrain>("sidecar-3").GetPending(), p => p.Command.CommandId == move.CommandId);
        Assert.DoesNotContain(AppliedOf(stream), a => a.CommandAckSequence == move.Sequence);

        // Sent again (what the sidecar does on UNAVAILABLE): applied, the move complete.
        await stream.AckAsync(move);
        await AppliedAsync(stream, x => x.CommandAckSequence == move.Sequence && x.CommandId == move.CommandId);
        var done = await GetAsync(connection);
        Assert.Equal((ConnectionStatus.Active, "srv-1"), (done.Status, done.ServerId));
        await AssertMovedOnceAsync(connection, move);
    }

    [Fact]
    public async Task An_ack_lost_with_its_stream_after_a_failed_receipt_brings_the_command_back_on_re_attach()
    {
        var (connection, first) = await AttachedAsync(4);
        var move = await MoveAsync(connection, "r-2", first);
        Unreachable.FailOnce<IConnectionGrain>(nameof(IConnectionGrain.CompleteCommand), connection.ConnectionId);
        await first.AckAsync(move);
        Assert.Equal(move.Sequence, (await NextRejectionAsync(first)).CommandAckSequence);
        await first.DisposeAsync(); // the sidecar's stream breaks before it sends the ack again

        // It re-attaches with the last sequence whose ack was applied: the outbox sends the move again, once, with the
        // same id and sequence (the sidecar answers it from what it remembers, without moving again).
        var (second, attached) = await SidecarStream.AttachAsync(Sidecars, Sidecar(4), "sidecar-4", lastAcked: move.Sequence - 1);
        await using var _ = second;
        Assert.NotEqual("", attached.OutboxIncarnation);
        var again = (await NextMoveAsync(second))!;
        Assert.Equal((move.CommandId, move.Sequence), (again.CommandId, again.Sequence));
        await second.AckAsync(again);
        await AppliedAsync(second, x => x.CommandAckSequence == move.Sequence);
        var done = await GetAsync(connection);
        Assert.Equal((ConnectionStatus.Active, "srv-1"), (done.Status, done.ServerId));
        await AssertMovedOnceAsync(connection, move);
        Assert.Null(await NextMoveAsync(second, TimeSpan.FromSeconds(1), orNull: true));
    }

    [Fact]
    public async Task An_ack_the_outbox_cannot_take_has_its_receipt_delivered_first_and_is_applied_when_sent_again()
    {
        var (connection, stream) = await AttachedAsync(5);
        await using var _ = stream;
        var move = await MoveAsync(connection, "r-3", stream);

        Unreachable.FailOnce<ISidecarOutboxGrain>(nameof(ISidecarOutboxGrain.Ack), "sidecar-5");
        await stream.AckAsync(move);
        var rejected = await NextRejectionAsync(stream);
        Assert.Equal(("UNAVAILABLE", move.Sequence), (rejected.Code, rejected.CommandAckSequence));
        // The receipt went first: the connection grain has the move's outcome although the outbox call failed.
        var moved = await GetAsync(connection);
        Assert.Equal((ConnectionStatus.Active, "srv-1"), (moved.Status, moved.ServerId));

        await stream.AckAsync(move);
        await AppliedAsync(stream, x => x.CommandAckSequence == move.Sequence);
        Assert.DoesNotContain(await Grains.GetGrain<ISidecarOutboxGrain>("sidecar-5").GetPending(), p => p.Command.CommandId == move.CommandId);
        await AssertMovedOnceAsync(connection, move);
    }

    [Fact]
    public async Task An_own_move_report_is_applied_only_once_its_connection_has_it()
    {
        var (connection, stream) = await AttachedAsync(6);
        await using var _ = stream;
        var report = new SidecarMessage
        {
            StateReport = new StateReport
            {
                ConnectionId = connection.ConnectionId,
                State = LinkState.SignedOn,
                ServerAddress = "10.0.0.2:5000",
                MovedFrom = "10.0.0.1:5000",
                Detail = "moved on its own",
            },
        };

        Unreachable.FailOnce<IConnectionGrain>(nameof(IConnectionGrain.ReportLink), connection.ConnectionId);
        await stream.SendAsync(report);
        var rejected = await NextRejectionAsync(stream);
        Assert.Equal(("UNAVAILABLE", connection.ConnectionId, 0ul), (rejected.Code, rejected.ConnectionId, rejected.CommandAckSequence));
        Assert.DoesNotContain(AppliedOf(stream), a => a.MovedFrom.Length > 0);
        Assert.Equal("srv-0", (await GetAsync(connection)).ServerId);

        await stream.SendAsync(report); // what the sidecar does on a retryable rejection about its connection
        await AppliedAsync(stream, a => a.MovedFrom == "10.0.0.1:5000");
        var snapshot = await Grains.GetGrain<IConnectionGrain>(connection.ConnectionId).GetState();
        Assert.Equal("srv-1", snapshot.ServerId);
        Assert.Equal("sidecar-initiated", Assert.Single(snapshot.RecentFailovers).Detail);
    }

    private async Task AssertMovedOnceAsync(Connection connection, Command move)
    {
        var snapshot = await Grains.GetGrain<IConnectionGrain>(connection.ConnectionId).GetState();
        var record = Assert.Single(snapshot.RecentFailovers);
        Assert.Equal(FailoverOutcome.Moved, record.Outcome);
        Assert.Equal("srv-1", record.ToServerId);
        Assert.Equal(1, record.Attempts);
        Assert.Single(snapshot.RecentTransitions, t => t.To == GrainInterfaces.Models.ConnectionStatus.Active && t.Reason.Contains("failover complete", StringComparison.Ordinal));
        Assert.DoesNotContain(await Grains.GetGrain<ISidecarOutboxGrain>(snapshot.SidecarId!).GetPending(), p => p.Command.CommandId == move.CommandId);
    }

    /// <summary>Reads the stream until an Applied matching <paramref name="match"/> has come (10 s at most).</summary>
    private static async Task AppliedAsync(SidecarStream stream, Func<Applied, bool> match)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!AppliedOf(stream).Any(match))
        {
            Assert.True(DateTime.UtcNow < until, "no applied within 10 s");
            await stream.NextAsync(TimeSpan.FromMilliseconds(200));
        }
    }

    private static List<Applied> AppliedOf(SidecarStream stream)
    {
        lock (stream.Applied)
        {
            return [.. stream.Applied];
        }
    }

    private async Task<Connection> GetAsync(Connection connection) =>
        await Controller.GetConnectionAsync(new GetConnectionRequest { ConnectionId = connection.ConnectionId }, Operator);

    private async Task<Command> MoveAsync(Connection connection, string key, SidecarStream stream)
    {
        await Controller.RequestFailoverAsync(new RequestFailoverRequest { ConnectionId = connection.ConnectionId, Reason = "drill", IdempotencyKey = key }, Operator);
        var move = (await NextMoveAsync(stream))!;
        Assert.Equal("srv-1", move.TargetServerId);
        return move;
    }

    private async Task<(Connection, SidecarStream)> AttachedAsync(int sidecar)
    {
        var pool = await CreatePoolAsync();
        var connection = (await Controller.RegisterConnectionAsync(
            new RegisterConnectionRequest { ClientId = $"client-of-sidecar-{sidecar}", ServerPool = pool, PreferredServer = "srv-0" }, Sidecar(sidecar))).Connection;
        var (stream, _) = await SidecarStream.AttachAsync(Sidecars, Sidecar(sidecar), $"sidecar-{sidecar}");
        await stream.SignedOnHeartbeatAsync(connection.ConnectionId, "10.0.0.1:5000");
        await Eventually.Until(async () => (await GetAsync(connection)).Status, s => s == ConnectionStatus.Active, TimeSpan.FromSeconds(10));
        return (connection, stream);
    }

    private static async Task<Rejected> NextRejectionAsync(SidecarStream stream)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (DateTime.UtcNow < until)
        {
            if ((await stream.NextAsync(until - DateTime.UtcNow))?.Rejected is { } rejected) return rejected;
        }
        throw new TimeoutException("no rejection within 10 s");
    }

    private static async Task<Command?> NextMoveAsync(SidecarStream stream, TimeSpan? timeout = null, bool orNull = false)
    {
        var until = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (DateTime.UtcNow < until)
        {
            var m = await stream.NextAsync(until - DateTime.UtcNow);
            if (m?.Command is { Kind: CommandKind.ReconnectElsewhere } move) return move;
        }
        return orNull ? null : throw new TimeoutException("no move arrived");
    }

    private async Task<string> CreatePoolAsync()
    {
        var pools = new ServerPoolService.ServerPoolServiceClient(Channel);
        var pool = $"pool-{Guid.NewGuid():N}"[..20];
        for (var i = 0; i < 2; i++)
        {
            await pools.AddServerAsync(new AddServerRequest
            {
                ServerPool = pool,
                Server = new ServerInstance { ServerId = $"srv-{i}", Address = $"10.0.0.{i + 1}:5000", Zone = $"zone-{i}", Capacity = 10 },
            }, Operator);
        }
        return pool;
    }
}
