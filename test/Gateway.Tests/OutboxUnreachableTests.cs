using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using OrleansControl.Contract.V1;
using OrleansControl.GrainInterfaces;
using OrleansControl.Gateway.Tests.Infrastructure;
using static OrleansControl.Gateway.Tests.Infrastructure.GatewayFixture;

namespace OrleansControl.Gateway.Tests;

/// <summary>
/// The sidecar's outbox grain on a silo that died and is not declared dead yet: its calls fail (SiloUnavailableException,
/// thrown here by an outgoing call filter on the gateway's silo, as Orleans throws it when the target silo cannot be
/// reached). The Attach stream neither waits for it nor stops delivering commands after it (issue 15: two sidecars left
/// FAILED on a dead server for 90 s because one failed Pull had ended their stream's command loop for good).
/// </summary>
public sealed class OutboxUnreachableTests : UnreachableGrainsTests
{
    [Fact]
    public async Task A_failed_outbox_call_does_not_stop_the_stream_delivering_the_next_move()
    {
        var (connection, stream) = await AttachedAsync(8);
        await using var _ = stream;

        // The outbox cannot be reached while the move is queued: the doorbell's Pull fails, and so do the next ones.
        Unreachable.FailAlways<ISidecarOutboxGrain>("sidecar-8", "Pull", "Resume");
        await Controller.RequestFailoverAsync(new RequestFailoverRequest { ConnectionId = connection.ConnectionId, Reason = "drill", IdempotencyKey = "u-1" }, Operator);
        await Eventually.Until(() => Task.FromResult(Unreachable.Failed), n => n >= 2, TimeSpan.FromSeconds(10));
        Unreachable.Clear();

        var move = await NextMoveAsync(stream, TimeSpan.FromSeconds(10));
        Assert.Equal("srv-1", move.TargetServerId);
        // The same stream goes on: the move completes on its ack, and the next one arrives too.
        await stream.AckAsync(move);
        await Eventually.Until(async () => await Controller.GetConnectionAsync(new GetConnectionRequest { ConnectionId = connection.ConnectionId }, Operator),
            c => c.Status == ConnectionStatus.Active && c.ServerId == "srv-1", TimeSpan.FromSeconds(10));
        await Controller.RequestFailoverAsync(new RequestFailoverRequest { ConnectionId = connection.ConnectionId, Reason = "drill back", IdempotencyKey = "u-2" }, Operator);
        var back = await NextMoveAsync(stream, TimeSpan.FromSeconds(10));
        Assert.Equal("srv-0", back.TargetServerId);
    }

    [Fact]
    public async Task An_unreachable_outbox_does_not_hold_up_the_attach_and_its_commands_follow_when_it_answers()
    {
        var pool = await CreatePoolAsync();
        var connection = (await Controller.RegisterConnectionAsync(
            new RegisterConnectionRequest { ClientId = "client-of-sidecar-9", ServerPool = pool, PreferredServer = "srv-0" }, Sidecar(9))).Connection;
        Unreachable.FailAlways<ISidecarOutboxGrain>("sidecar-9", "Attach");

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (stream, attached) = await SidecarStream.AttachAsync(Sidecars, Sidecar(9), "sidecar-9", lastAcked: 0);
        await using var _ = stream;
        var took = clock.Elapsed;
        Assert.Equal("", attached.OutboxIncarnation); // attached without the outbox: its numbering is not known yet
        Assert.True(took < TimeSpan.FromSeconds(3), $"attached after {took.TotalMilliseconds:F0} ms");

        // Reports flow meanwhile: the heartbeat reaches the connection grain.
        await stream.HeartbeatAsync(connection.ConnectionId, rttMs: 7);
        await Eventually.Until(async () => (await Controller.GetConnectionAsync(new GetConnectionRequest { ConnectionId = connection.ConnectionId }, Operator)).Status,
            s => s == ConnectionStatus.Active, TimeSpan.FromSeconds(10)); // from the heartbeat sent before the outbox answered

        // The outbox answers again: the full Attached, then the commands.
        Unreachable.Clear();
        var full = await stream.NextAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(ControllerMessage.BodyOneofCase.Attached, full!.BodyCase);
        Assert.NotEqual("", full.Attached.OutboxIncarnation);
        await Controller.RequestFailoverAsync(new RequestFailoverRequest { ConnectionId = connection.ConnectionId, Reason = "drill", IdempotencyKey = "a-1" }, Operator);
        Assert.Equal("srv-1", (await NextMoveAsync(stream, TimeSpan.FromSeconds(10))).TargetServerId);
    }

    private async Task<(Connection, SidecarStream)> AttachedAsync(int sidecar)
    {
        var pool = await CreatePoolAsync();
        var connection = (await Controller.RegisterConnectionAsync(
            new RegisterConnectionRequest { ClientId = $"client-of-sidecar-{sidecar}", ServerPool = pool, PreferredServer = "srv-0" }, Sidecar(sidecar))).Connection;
        var (stream, _) = await SidecarStream.AttachAsync(Sidecars, Sidecar(sidecar), $"sidecar-{sidecar}");
        await stream.HeartbeatAsync(connection.ConnectionId);
        await Eventually.Until(async () => (await Controller.GetConnectionAsync(new GetConnectionRequest { ConnectionId = connection.ConnectionId }, Operator)).Status,
            s => s == ConnectionStatus.Active, TimeSpan.FromSeconds(10));
        return (connection, stream);
    }

    private static async Task<Command> NextMoveAsync(SidecarStream stream, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < until)
        {
            var m = await stream.NextAsync(until - DateTime.UtcNow);
            if (m?.Command is { Kind: CommandKind.ReconnectElsewhere } move) return move;
        }
        throw new TimeoutException($"no move within {timeout.TotalSeconds} s");
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
