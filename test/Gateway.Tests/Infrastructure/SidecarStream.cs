using System.Threading.Channels;
using Grpc.Core;
using OrleansControl.Contract.V1;

namespace OrleansControl.Gateway.Tests.Infrastructure;

/// <summary>A test-side sidecar stream: reads in the background so a test can wait with a timeout without cancelling the call.</summary>
internal sealed class SidecarStream : IAsyncDisposable
{
    private readonly AsyncDuplexStreamingCall<SidecarMessage, ControllerMessage> _call;
    private readonly Channel<ControllerMessage> _received = Channel.CreateUnbounded<ControllerMessage>();
    private readonly Task _pump;

    private SidecarStream(AsyncDuplexStreamingCall<SidecarMessage, ControllerMessage> call)
    {
        _call = call;
        _pump = Task.Run(async () =>
        {
            try
            {
                await foreach (var m in call.ResponseStream.ReadAllAsync()) await _received.Writer.WriteAsync(m);
                _received.Writer.TryComplete();
            }
            catch (Exception e)
            {
                _received.Writer.TryComplete(e);
            }
        });
    }

    public static async Task<(SidecarStream Stream, Attached Attached)> AttachAsync(
        SidecarService.SidecarServiceClient client, Metadata credentials, string sidecarId, ulong lastAcked = 0)
    {
        var stream = new SidecarStream(client.Attach(credentials));
        await stream.SendAsync(new SidecarMessage { Register = new SidecarRegister { SidecarId = sidecarId, Region = "local", LastAckedSequence = lastAcked } });
        var first = await stream.NextAsync();
        Assert.Equal(ControllerMessage.BodyOneofCase.Attached, first!.BodyCase);
        return (stream, first.Attached);
    }

    /// <summary>The Applied messages read so far (not returned by <see cref="NextAsync"/>; lock it to read).</summary>
    public List<Applied> Applied { get; } = [];

    /// <summary>The BACKUPS commands received so far (not returned by <see cref="NextAsync"/>).</summary>
    public List<Command> Backups { get; } = [];

    public Task SendAsync(SidecarMessage message) => _call.RequestStream.WriteAsync(message);

    public Task HeartbeatAsync(string connectionId, double rttMs = 12) => SendAsync(new SidecarMessage
    {
        Heartbeat = new Heartbeat { ConnectionId = connectionId, EchoRttMs = rttMs, SentAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(DateTime.UtcNow) },
    });

    /// <summary>Acknowledges a command as a real sidecar does: for a move, signed on at its target.</summary>
    public Task AckAsync(Command command, string? signedOnAt = null) => SendAsync(new SidecarMessage
    {
        CommandAck = new CommandAck
        {
            CommandId = command.CommandId,
            Sequence = command.Sequence,
            Success = true,
            ServerAddress = signedOnAt ?? command.TargetServerAddress,
        },
    });

    /// <summary>A heartbeat that says where the link is signed on (what a current sidecar sends).</summary>
    public Task SignedOnHeartbeatAsync(string connectionId, string serverAddress) => SendAsync(new SidecarMessage
    {
        Heartbeat = new Heartbeat
        {
            ConnectionId = connectionId,
            EchoRttMs = 12,
            LinkState = LinkState.SignedOn,
            ServerAddress = serverAddress,
            SentAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(DateTime.UtcNow),
        },
    });

    /// <summary>The next message, or null if none arrives within <paramref name="timeout"/>. Throws the call's RpcException if it ended.</summary>
    public async Task<ControllerMessage?> NextAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        try
        {
            while (true)
            {
                var message = await _received.Reader.ReadAsync(cts.Token);
                if (message.Applied is { } applied)
                {
                    // The gateway saying it applied an ack or an own move's report: kept apart, as the backups are.
                    lock (Applied)
                    {
                        Applied.Add(applied);
                    }
                    continue;
                }
                if (message.Command is { Kind: CommandKind.Backups } backups)
                {
                    // The connection's ranked backups: what a sidecar keeps for its own moves. Kept apart here, so a
                    // test reads the commands it is about.
                    Backups.Add(backups);
                    continue;
                }
                return message;
            }
        }
        catch (OperationCanceledException)
        {
            return null;
        }
        catch (ChannelClosedException e) when (e.InnerException is not null)
        {
            throw e.InnerException;
        }
    }

    /// <summary>The next command; a list of live gateways (sent whenever the set changes, see docs/gateway.md) may come first.</summary>
    public async Task<Command> NextCommandAsync(TimeSpan? timeout = null)
    {
        for (; ; )
        {
            var m = await NextAsync(timeout) ?? throw new TimeoutException("no command arrived");
            if (m.BodyCase == ControllerMessage.BodyOneofCase.Gateways) continue;
            Assert.Equal(ControllerMessage.BodyOneofCase.Command, m.BodyCase);
            return m.Command;
        }
    }

    /// <summary>Drops the stream as a crashed sidecar would (no graceful completion).</summary>
    public async ValueTask DisposeAsync()
    {
        _call.Dispose();
        try
        {
            await _pump;
        }
        catch (Exception)
        {
            // The pump records the ending; nothing to do.
        }
    }
}
