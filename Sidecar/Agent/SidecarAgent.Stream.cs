using System.Threading.Channels;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using OrleansControl.Contract.V1;
using OrleansControl.Sidecar.Client;
using OrleansControl.Sidecar.Health;

namespace OrleansControl.Sidecar.Agent;

// The Attach stream: one writer loop (gRPC streams take one write at a time), heartbeats, commands.
public sealed partial class SidecarAgent
{
    private async Task AttachAsync(SidecarService.SidecarServiceClient client, ReconnectBackoff backoff, CancellationToken ct)
    {
        using var stream = CancellationTokenSource.CreateLinkedTokenSource(ct);
        using var call = client.Attach(Headers(), cancellationToken: stream.Token);
        var outbox = Channel.CreateBounded<SidecarMessage>(new BoundedChannelOptions(256)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
        });
        await call.RequestStream.WriteAsync(new SidecarMessage
        {
            Register = new SidecarRegister
            {
                SidecarId = _options.SidecarId,
                Region = _options.Region,
                LastAckedSequence = _acks.LastAcked,
            },
        }, stream.Token).ConfigureAwait(false);
        if (ServerMode)
        {
            await call.RequestStream.WriteAsync(new SidecarMessage { ServerRegistration = ServerRegistration() }, stream.Token).ConfigureAwait(false);
        }

        var writer = WriteLoopAsync(call.RequestStream, outbox.Reader, stream.Token);
        // Commands run on their own loop so that the reader sees the next one at once (a move abandons the previous).
        var commands = Channel.CreateUnbounded<Command>(new UnboundedChannelOptions { SingleReader = true });
        var executor = RunCommandsAsync(commands.Reader, outbox.Writer, stream.Token);
        Task? heartbeats = null;
        try
        {
            await foreach (var message in call.ResponseStream.ReadAllAsync(stream.Token).ConfigureAwait(false))
            {
                switch (message.BodyCase)
                {
                    case ControllerMessage.BodyOneofCase.Attached:
                        var attached = message.Attached;
                        if (attached.HeartbeatIntervalMs > 0)
                        {
                            _heartbeatInterval = TimeSpan.FromMilliseconds(Math.Clamp(attached.HeartbeatIntervalMs, 100, 300_000));
                        }

                        Log.Attached(_logger, attached.SidecarId, attached.ResumedAfter, attached.PendingCommands);
                        if (attached.Gateways.Count > 0)
                        {
                            _gateways.Learn(attached.Gateways);
                        }

                        Resume(attached);
                        _outbox = outbox;
                        _attached = true;
                        _lastError = null;
                        backoff.Reset();
                        if (!ServerMode)
                        {
                            // The link's state now, whatever was sent on a stream that broke: a FAILED written to a dying
                            // gateway is said again here (and by every heartbeat), so the registry learns it whichever
                            // gateway it went to. Also carries moved_from of an own move made while away.
                            Report(_link.State, LinkFailed ? "attached: the link is down, not signed on since it failed" : "attached", outbox.Writer);
                            heartbeats ??= HeartbeatLoopAsync(outbox.Writer, stream.Token);
                        }
                        break;
                    case ControllerMessage.BodyOneofCase.Command:
                        OnCommandArrived(message.Command);
                        commands.Writer.TryWrite(message.Command);
                        break;
                    case ControllerMessage.BodyOneofCase.Applied:
                        if (message.Applied.CommandAckSequence != 0)
                        {
                            _acks.Applied(message.Applied.CommandAckSequence);
                        }

                        if (message.Applied.MovedFrom.Length > 0)
                        {
                            OwnMoveRecorded(message.Applied.MovedFrom);
                        }

                        break;
                    case ControllerMessage.BodyOneofCase.Gateways:
                        _gateways.Learn(message.Gateways.Addresses);
                        break;
                    case ControllerMessage.BodyOneofCase.Rejected:
                        var rejected = message.Rejected;
                        _lastError = $"controller rejected a {(rejected.Message.StartsWith("server_registration", StringComparison.Ordinal) ? "server registration" : rejected.CommandAckSequence != 0 ? "command ack" : "report")}: {rejected.Code}: {rejected.Message}";
                        Log.ReportRejected(_logger, rejected.ConnectionId, rejected.Code, rejected.Message);
                        OnRejected(rejected, outbox.Writer, stream.Token);
                        if (rejected.Code == "NOT_FOUND" && rejected.ConnectionId == _options.EffectiveConnectionId)
                        {
                            // The controller lost our registration (e.g. its store was reset): register again.
                            _ = ReRegisterAsync(stream.Token);
                        }

                        break;
                }
            }
        }
        finally
        {
            _attached = false;
            _outbox = null;
            commands.Writer.TryComplete();
            outbox.Writer.TryComplete();
            await stream.CancelAsync().ConfigureAwait(false);
            await Quietly(executor).ConfigureAwait(false);
            await Quietly(writer).ConfigureAwait(false);
            OnLinkDown(); // a link still down is now the sidecar's to move: nobody else can
            if (heartbeats is not null)
            {
                await Quietly(heartbeats).ConfigureAwait(false);
            }
        }
    }

    private ServerRegistration ServerRegistration()
    {
        var server = _options.Server;
        Log.ServerDeclared(_logger, server.ServerId!, server.Pool ?? _options.ServerPool, server.Address!);
        return new ServerRegistration
        {
            ServerPool = server.Pool is { Length: > 0 } pool ? pool : _options.ServerPool,
            ServerId = server.ServerId,
            Address = server.Address,
            Zone = server.Zone,
            Capacity = server.Capacity,
        };
    }

    /// <summary>
    /// A controller that forgot (a new outbox incarnation, or it resumes before our last ack) numbers its commands
    /// afresh: our sequences mean nothing to it any more, so the cumulative ack restarts from what it knows.
    /// Nothing is re-executed or skipped because of this: that is decided by command id.
    /// </summary>
    private void Resume(Attached attached)
    {
        var incarnation = attached.OutboxIncarnation;
        var previous = _outboxIncarnation;
        var lastAcked = _acks.LastAcked;
        var restarted = incarnation.Length > 0 && previous is not null && incarnation != previous;
        if (restarted || attached.ResumedAfter < lastAcked)
        {
            _acks.ResetTo(attached.ResumedAfter);
            Log.OutboxRestarted(_logger, incarnation, previous ?? "", attached.ResumedAfter, lastAcked);
        }
        else
        {
            // A full attach (with the outbox's incarnation) says what the outbox has no longer pending.
            _acks.Reattached(incarnation.Length > 0 ? attached.ResumedAfter : null);
        }

        if (incarnation.Length > 0)
        {
            _outboxIncarnation = incarnation;
        }
    }

    private static async Task Quietly(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or RpcException or IOException or InvalidOperationException)
        {
        }
    }

    private static async Task WriteLoopAsync(IClientStreamWriter<SidecarMessage> requests, ChannelReader<SidecarMessage> outbox, CancellationToken ct)
    {
        await foreach (var message in outbox.ReadAllAsync(ct).ConfigureAwait(false))
        {
            await requests.WriteAsync(message, ct).ConfigureAwait(false);
        }
    }

    private async Task HeartbeatLoopAsync(ChannelWriter<SidecarMessage> outbox, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            if (!_standby)
            {
                outbox.TryWrite(new SidecarMessage { Heartbeat = Heartbeat() });
            }

            lock (_lock)
            {
                _lastHeartbeatAt = DateTimeOffset.UtcNow;
            }

            await Task.Delay(_heartbeatInterval, ct).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A heartbeat with the echo RTT, the errors and timeouts since the previous one, and the link's real state and
    /// server (the registry follows them).
    /// </summary>
    private Heartbeat Heartbeat()
    {
        var now = _link.Health();
        var before = Interlocked.Exchange(ref _previous, now);
        static uint Delta(long current, long? previous) => (uint)Math.Clamp(current - (previous ?? 0), 0, 1_000_000);
        return new Heartbeat
        {
            ConnectionId = _options.EffectiveConnectionId,
            EchoRttMs = Math.Clamp(now.LastEchoRttMs, 0, 60_000),
            Errors = Delta(now.EchoFailures + now.RequestsLost, before?.EchoFailures + before?.RequestsLost),
            Timeouts = Delta(now.RequestTimeouts + now.EchoTimeouts, before?.RequestTimeouts + before?.EchoTimeouts),
            SentAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
            LinkState = Observed(_link.State),
            ServerAddress = _link.SignedOnAt ?? "",
            Requests = Delta(now.RequestsSent, before?.RequestsSent),
            Responses = Delta(now.ResponsesMatched, before?.ResponsesMatched),
            LocalAddress = _link.SignedOnAt is null ? "" : _link.LocalAddress ?? "",
        };
    }

    /// <summary>
    /// Every change goes up as a state report, except that a link which keeps failing to reconnect reports
    /// FAILED once per episode (the controller acts on FAILED; repeating it per attempt would be noise).
    /// </summary>
    private void OnLinkStateChanged(ConnectionStateChanged change)
    {
        if (change.Current is ConnectionState.Down)
        {
            OnLinkDown();
        }

        if (change.Current is ConnectionState.SignedOn or ConnectionState.Closed)
        {
            Volatile.Write(ref _failureReported, false);
        }
        else if (change.Current is ConnectionState.Down && Interlocked.Exchange(ref _failureReported, true))
        {
            return;
        }
        else if (change.Current is ConnectionState.Connecting && Volatile.Read(ref _failureReported))
        {
            return;
        }

        Report(change.Current, change.Reason);
    }

    private async Task ReRegisterAsync(CancellationToken ct)
    {
        try
        {
            await RegisterAsync(ct).ConfigureAwait(false);
            // Until a heartbeat says where the link is, the registry has only the assignment it just made (Requested):
            // tell it now rather than one heartbeat interval later.
            if (!_standby)
            {
                _outbox?.Writer.TryWrite(new SidecarMessage { Heartbeat = Heartbeat() });
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _lastError = $"re-registration failed: {ex.Message}";
        }
    }

    private SidecarMessage StateReport(ConnectionState state, string detail)
    {
        var health = _link.Health();
        var text = state == ConnectionState.Degraded ? $"degraded (score {health.Score}): {detail}" : detail;
        return new SidecarMessage
        {
            StateReport = new StateReport
            {
                ConnectionId = _options.EffectiveConnectionId,
                State = Observed(state),
                ServerAddress = _link.SignedOnAt ?? "", // where it is, not where it is trying to go
                Detail = text.Length > 512 ? text[..512] : text,
                LocalAddress = _link.SignedOnAt is null ? "" : _link.LocalAddress ?? "",
            },
        };
    }

    /// <summary>The link went down and has not signed on since (its reconnect attempts included).</summary>
    private bool LinkFailed => Volatile.Read(ref _failureReported) && _link.State is ConnectionState.Connecting or ConnectionState.Down;

    /// <summary>
    /// What the controller is told of the link: FAILED from the moment it went down until it signs on again, its
    /// reconnect attempts (CONNECTING to the link itself) included. The one FAILED report of an outage may have been
    /// lost with the stream that carried it; every later report and heartbeat then still says it, and the registry
    /// converges on the link whichever gateway hears it.
    /// </summary>
    private LinkState Observed(ConnectionState state) =>
        state is ConnectionState.Connecting && LinkFailed ? LinkState.Failed : ToLinkState(state);

    internal static LinkState ToLinkState(ConnectionState state) => state switch
    {
        ConnectionState.Connecting => LinkState.Connecting,
        ConnectionState.SignedOn or ConnectionState.Degraded => LinkState.SignedOn,
        ConnectionState.Draining => LinkState.Draining,
        ConnectionState.Down => LinkState.Failed,
        _ => LinkState.Disconnected,
    };
}
