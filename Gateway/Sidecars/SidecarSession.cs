using System.Threading.Channels;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using OrleansControl.Contract.V1;
using OrleansControl.Gateway.Errors;
using OrleansControl.Gateway.Hosting;
using OrleansControl.Gateway.Regions;
using OrleansControl.Gateway.Security;
using OrleansControl.Gateway.Services;
using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Errors;
using OrleansControl.GrainInterfaces.Models;

namespace OrleansControl.Gateway.Sidecars;

/// <summary>
/// One attached sidecar. Up: heartbeats and state reports (each saying what the link does) go to the connection
/// grains (ownership checked once per connection per stream); acks go to the outbox, and the receipt of a command that
/// moves a link to its connection grain, which completes the move on it. A scheme server's sidecar sends session
/// reports, which go to that server's sessions grain. Down: one writer sends the outbox's
/// unacknowledged commands in sequence order, woken by the outbox's observer call and, as a backstop, by a poll.
/// </summary>
internal sealed partial class SidecarSession(
    string sidecarId,
    IClusterClient cluster,
    GatewayAuthorizer auth,
    ServerCallContext context,
    IServerStreamWriter<ControllerMessage> responseStream,
    GatewayOptions options,
    LiveGateways gateways,
    PeerSessionRelay sessionRelay,
    ILogger<SidecarSession> logger) : ISidecarCommandObserver, IAsyncDisposable
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(2);
    /// <summary>After a failed outbox call: asked again this soon, until it answers.</summary>
    private static readonly TimeSpan RetryInterval = TimeSpan.FromMilliseconds(250);
    /// <summary>An outbox call that takes longer is treated as failed (and asked again); a healthy one answers in milliseconds.</summary>
    private static readonly TimeSpan CallDeadline = TimeSpan.FromSeconds(5);
    private const int MaxBatch = 1000;

    private readonly ISidecarOutboxGrain _outbox = cluster.GetGrain<ISidecarOutboxGrain>(sidecarId);
    private readonly Channel<ControllerMessage> _down = Channel.CreateUnbounded<ControllerMessage>(new() { SingleReader = true });
    private readonly SemaphoreSlim _doorbell = new(0, int.MaxValue);
    // Connections this stream has proven it owns, with their grain references (the heartbeat hot path reuses them).
    private readonly Dictionary<string, IConnectionGrain> _owned = new(StringComparer.Ordinal);
    // Commands sent on this stream and not yet acknowledged through it: an ack's receipt reaches its connection grain
    // before the outbox drops the command, so a failed ack loses nothing (SidecarSession.Acks.cs).
    private readonly System.Collections.Concurrent.ConcurrentDictionary<long, SidecarCommand> _sent = new();
    private readonly CancellationTokenSource _stop = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
    private ISidecarCommandObserver? _reference;
    private long _epoch;
    private long _lastSent;
    private volatile bool _superseded;
    private volatile bool _shuttingDown;
    private volatile bool _outboxAttached;
    private Task<OutboxAttachment>? _attaching;

    public async Task RunAsync(long lastAckedSequence, IAsyncStreamReader<SidecarMessage> requestStream)
    {
        _reference = cluster.CreateObjectReference<ISidecarCommandObserver>(this);
        // The outbox may be on a silo that died and is not declared dead yet: the stream does not wait for it. The
        // sidecar is attached at once (reports and heartbeats flow), told so without the outbox's numbering, and told
        // again with it, its pending commands after, when the outbox answers (CommandLoopAsync).
        var attaching = _attaching = _outbox.Attach(lastAckedSequence, _reference);
        OutboxAttachment? attachment = null;
        if (await AnsweredWithinAsync(attaching, OutboxWait))
        {
            attachment = await attaching;
            await responseStream.WriteAsync(new ControllerMessage { Attached = AttachedWith(attachment) });
            Send(attachment.Pending);
        }
        else
        {
            LogOutboxLate(sidecarId, (long)OutboxWait.TotalMilliseconds);
            await responseStream.WriteAsync(new ControllerMessage
            {
                Attached = Provisional(lastAckedSequence),
            });
        }
        gateways.Changed += OnGatewaysChanged;

        var writer = Task.Run(() => WriteLoopAsync(_stop.Token));
        var commands = Task.Run(() => CommandLoopAsync(attachment is null ? attaching : null, lastAckedSequence, _stop.Token));
        try
        {
            await ReadLoopAsync(requestStream, _stop.Token);
        }
        catch (OperationCanceledException) when (_superseded && !context.CancellationToken.IsCancellationRequested)
        {
            throw new RpcException(new Status(StatusCode.Aborted, $"sidecar '{sidecarId}' attached again on another stream"));
        }
        catch (Exception e) when (_shuttingDown && !context.CancellationToken.IsCancellationRequested && e is not RpcException { StatusCode: StatusCode.Unavailable })
        {
            // Whatever the stop broke first (the read, or a grain call of a silo that is stopping), the sidecar is told
            // the one thing it needs: go elsewhere.
            throw new RpcException(new Status(StatusCode.Unavailable, "the controller is stopping: attach to another gateway"));
        }
        finally
        {
            gateways.Changed -= OnGatewaysChanged;
            await _stop.CancelAsync();
            _down.Writer.TryComplete();
            await SwallowCancellation(commands, _shuttingDown);
            await SwallowCancellation(writer, _shuttingDown);
        }
    }

    /// <summary>A silo joined or was declared dead: the sidecar gets the whole new list (the writer loop sends it).</summary>
    private void OnGatewaysChanged(System.Collections.Immutable.ImmutableArray<string> live)
    {
        var list = new GatewayList();
        list.Addresses.AddRange(live);
        _down.Writer.TryWrite(new ControllerMessage { Gateways = list });
    }

    private async Task ReadLoopAsync(IAsyncStreamReader<SidecarMessage> requestStream, CancellationToken ct)
    {
        while (await requestStream.MoveNext(ct))
        {
            var message = requestStream.Current;
            try
            {
                await HandleAsync(message);
            }
            catch (Exception e) when (e is not RpcException && !ct.IsCancellationRequested)
            {
                // One message the cluster could not handle (a silo dying, a timeout) is refused on its own; the stream,
                // and every other connection's heartbeats on it, go on. PERMISSION_DENIED (an RpcException) still ends it.
                var (code, text) = ErrorMappingInterceptor.Classify(e, false);
                if (code == StatusCode.Internal)
                {
                    var reference = Guid.NewGuid().ToString("N")[..12];
                    LogMessageFailed(e, sidecarId, reference);
                    text = $"internal error (reference {reference})";
                }
                Reject(ConnectionIdOf(message), code, text, message.BodyCase == SidecarMessage.BodyOneofCase.CommandAck ? message.CommandAck.Sequence : 0);
            }
        }
    }

    private async ValueTask HandleAsync(SidecarMessage message)
    {
        switch (message.BodyCase)
        {
            case SidecarMessage.BodyOneofCase.Heartbeat:
                if (await Prepare(message.Heartbeat, "heartbeat") is { } grain) await Record(grain, message.Heartbeat);
                break;
            case SidecarMessage.BodyOneofCase.HeartbeatBatch:
                await OnHeartbeatBatch(message.HeartbeatBatch);
                break;
            case SidecarMessage.BodyOneofCase.StateReport:
                await OnStateReport(message.StateReport);
                break;
            case SidecarMessage.BodyOneofCase.CommandAck:
                await OnAck(message.CommandAck);
                break;
            case SidecarMessage.BodyOneofCase.ServerRegistration:
                await OnServerRegistration(message.ServerRegistration);
                break;
            case SidecarMessage.BodyOneofCase.SessionReport:
                await OnSessionReport(message.SessionReport);
                break;
            case SidecarMessage.BodyOneofCase.Register:
                Reject("", StatusCode.FailedPrecondition, "register: already registered on this stream");
                break;
            default:
                Reject("", StatusCode.InvalidArgument, "body: empty message");
                break;
        }
    }

    private static string ConnectionIdOf(SidecarMessage message) => message.BodyCase switch
    {
        SidecarMessage.BodyOneofCase.Heartbeat => message.Heartbeat.ConnectionId,
        SidecarMessage.BodyOneofCase.StateReport => message.StateReport.ConnectionId,
        _ => "",
    };

    private async ValueTask OnHeartbeatBatch(HeartbeatBatch batch)
    {
        if (batch.Heartbeats.Count > MaxBatch)
        {
            Reject("", StatusCode.InvalidArgument, $"heartbeat_batch.heartbeats: at most {MaxBatch} per message");
            return;
        }
        // Ownership checks (first sight of a connection) run one by one; the grain calls then run together.
        var calls = new Task[batch.Heartbeats.Count];
        for (var i = 0; i < calls.Length; i++)
        {
            var hb = batch.Heartbeats[i];
            var grain = await Prepare(hb, $"heartbeat_batch.heartbeats[{i}]");
            calls[i] = grain is null ? Task.CompletedTask : Record(grain, hb);
        }
        await Task.WhenAll(calls);
    }

    /// <summary>Validates one heartbeat and returns its connection's grain, or null after rejecting it.</summary>
    private async ValueTask<IConnectionGrain?> Prepare(Contract.V1.Heartbeat hb, string field)
    {
        if (!RequestValidation.IsWellFormedId(hb.ConnectionId))
        {
            Reject(hb.ConnectionId, StatusCode.InvalidArgument, $"{field}.connection_id: must be a well-formed id");
            return null;
        }
        if (!double.IsFinite(hb.EchoRttMs) || hb.EchoRttMs < 0 || hb.EchoRttMs > RequestValidation.MaxEchoRttMs)
        {
            Reject(hb.ConnectionId, StatusCode.InvalidArgument, $"{field}.echo_rtt_ms: must be between 0 and {RequestValidation.MaxEchoRttMs} ms");
            return null;
        }
        if (hb.Errors > RequestValidation.MaxCountPerReport || hb.Timeouts > RequestValidation.MaxCountPerReport)
        {
            Reject(hb.ConnectionId, StatusCode.InvalidArgument, $"{field}.errors/timeouts: must be at most {RequestValidation.MaxCountPerReport}");
            return null;
        }
        if (!System.Enum.IsDefined(hb.LinkState) || hb.ServerAddress.Length > RequestValidation.MaxAddressLength
            || hb.LocalAddress.Length > RequestValidation.MaxAddressLength)
        {
            Reject(hb.ConnectionId, StatusCode.InvalidArgument, $"{field}.link_state/server_address: must be a known state and an address of at most {RequestValidation.MaxAddressLength} characters");
            return null;
        }
        return _owned.TryGetValue(hb.ConnectionId, out var grain) ? grain : await EnsureOwned(hb.ConnectionId);
    }

    private async Task Record(IConnectionGrain grain, Contract.V1.Heartbeat hb)
    {
        try
        {
            await grain.RecordHeartbeat(new GrainInterfaces.Models.Heartbeat(hb.EchoRttMs, (int)hb.Errors, (int)hb.Timeouts,
                hb.SentAt?.ToDateTimeOffset() ?? DateTimeOffset.UtcNow, Observation(hb.LinkState, hb.ServerAddress, "", hb.LocalAddress),
                (int)Math.Min(hb.Responses, int.MaxValue)));
        }
        catch (ControlPlaneException e)
        {
            RejectMapped(hb.ConnectionId, e);
        }
    }

    private async ValueTask OnStateReport(StateReport report)
    {
        if (!RequestValidation.IsWellFormedId(report.ConnectionId))
        {
            Reject(report.ConnectionId, StatusCode.InvalidArgument, "state_report.connection_id: must be a well-formed id");
            return;
        }
        if (!System.Enum.IsDefined(report.State) || report.State == LinkState.Unspecified)
        {
            Reject(report.ConnectionId, StatusCode.InvalidArgument, "state_report.state: is required");
            return;
        }
        if (report.Detail.Length > RequestValidation.MaxReasonLength)
        {
            Reject(report.ConnectionId, StatusCode.InvalidArgument, $"state_report.detail: must be at most {RequestValidation.MaxReasonLength} characters");
            return;
        }
        if (report.ServerAddress.Length > RequestValidation.MaxAddressLength || report.MovedFrom.Length > RequestValidation.MaxAddressLength
            || report.LocalAddress.Length > RequestValidation.MaxAddressLength)
        {
            Reject(report.ConnectionId, StatusCode.InvalidArgument, $"state_report.server_address/moved_from/local_address: must be at most {RequestValidation.MaxAddressLength} characters");
            return;
        }
        if (!_owned.TryGetValue(report.ConnectionId, out var grain) && (grain = await EnsureOwned(report.ConnectionId)) is null) return;
        try
        {
            var observed = Observation(report.State, report.ServerAddress, report.Detail, report.LocalAddress)!;
            await grain.ReportLink(report.MovedFrom.Length == 0 ? observed : observed with { MovedFrom = report.MovedFrom });
            // The sidecar's own move is recorded: it may stop carrying it (until now it counts as not reported).
            if (report.MovedFrom.Length > 0)
                _down.Writer.TryWrite(new ControllerMessage { Applied = new Applied { MovedFrom = report.MovedFrom } });
        }
        catch (ControlPlaneException e)
        {
            RejectMapped(report.ConnectionId, e);
        }
    }

    /// <summary>
    /// The wire's link state as the grains' observation, said by this stream's sidecar; null for UNSPECIFIED (an older
    /// sidecar says nothing).
    /// </summary>
    private LinkObservation? Observation(LinkState state, string address, string detail, string local = "") => state switch
    {
        LinkState.Unspecified => null,
        _ => new LinkObservation((ObservedLinkState)(int)state, address.Length == 0 ? null : address, detail,
            ObservedBy: sidecarId, LocalAddress: local.Length == 0 ? null : local),
    };

    /// <summary>A scheme server's sidecar reports the sessions its server holds (soft state in the server's sessions grain).</summary>
    private async Task OnSessionReport(SessionReport report)
    {
        if (RequestValidation.SessionReportProblem(report, "session_report") is { } problem)
        {
            Reject("", StatusCode.InvalidArgument, problem);
            return;
        }
        if (!await MayReportFor(report.ServerPool, report.ServerId)) return;
        var receivedAt = DateTimeOffset.UtcNow;
        await cluster.GetGrain<IServerSessionsGrain>(IServerSessionsGrain.KeyOf(report.ServerPool, report.ServerId)).Report(report.ToModel(sidecarId));
        // The clients these sessions are of may be the peer region's (the bank's): it judges their silence by them too.
        sessionRelay.Offer(report, receivedAt, sidecarId);
    }

    /// <summary>First use of a connection on this stream: it must exist and belong to this sidecar.</summary>
    private async ValueTask<IConnectionGrain?> EnsureOwned(string connectionId)
    {
        var grain = cluster.GetGrain<IConnectionGrain>(connectionId);
        ConnectionSnapshot state;
        try
        {
            state = await grain.GetState();
        }
        catch (ConnectionNotFoundException e)
        {
            RejectMapped(connectionId, e);
            return null;
        }
        // Throws PERMISSION_DENIED, which ends the stream: a sidecar speaking for another's connection is not a glitch.
        // The standby being activated (DR) speaks for it too: its sign-on is what completes the activation.
        var speaksFor = state.Activation?.SidecarId == sidecarId ? sidecarId : state.SidecarId;
        await auth.RequireAsync(context, GatewayPolicies.OwningSidecarOrOperator, speaksFor, $"connection '{connectionId}' belongs to another sidecar");
        _owned[connectionId] = grain;
        return grain;
    }

    private async Task CommandLoopAsync(Task<OutboxAttachment>? attaching, long lastAckedSequence, CancellationToken ct)
    {
        if (attaching is not null)
            await AttachOutboxLateAsync(attaching, lastAckedSequence, ct);
        var failed = false;
        while (!ct.IsCancellationRequested)
        {
            await _doorbell.WaitAsync(failed ? RetryInterval : PollInterval, ct);
            PendingCommand[]? pending;
            try
            {
                // A call that does not answer is not waited for: the outbox's silo may be dead and not declared so yet.
                pending = await (failed ? _outbox.Resume(_epoch, _lastSent, _reference!) : _outbox.Pull(_epoch, _lastSent)).WaitAsync(CallDeadline, ct);
            }
            catch (Exception e) when (!ct.IsCancellationRequested && e is not OperationCanceledException)
            {
                // One failed call must not end the loop: the stream stays up (its heartbeats still flow) and a loop that
                // stopped here would deliver no command again for as long as the stream lasts. Asked again soon, and
                // the outbox, reactivated elsewhere, takes the observer again.
                if (!failed) LogPullFailed(sidecarId, e.GetType().Name, (long)RetryInterval.TotalMilliseconds);
                failed = true;
                continue;
            }
            if (failed) LogPullRecovered(sidecarId);
            failed = false;
            if (pending is null)
            {
                LogSuperseded(sidecarId);
                _superseded = true;
                await _stop.CancelAsync();
                return;
            }
            Send(pending);
        }
    }

    private void Send(IEnumerable<PendingCommand> pending)
    {
        foreach (var p in pending)
        {
            if (p.Sequence <= _lastSent) continue;
            _lastSent = p.Sequence;
            _sent[p.Sequence] = p.Command;
            _down.Writer.TryWrite(new ControllerMessage { Command = ToProto(p) });
        }
    }

    private async Task WriteLoopAsync(CancellationToken ct)
    {
        await foreach (var message in _down.Reader.ReadAllAsync(ct))
        {
            await responseStream.WriteAsync(message, ct);
        }
    }

    private void Reject(string connectionId, StatusCode code, string message, ulong ackSequence = 0) =>
        _down.Writer.TryWrite(new ControllerMessage
        {
            Rejected = new Rejected { ConnectionId = connectionId, Code = StatusName(code), Message = message, CommandAckSequence = ackSequence },
        });

    private void RejectMapped(string connectionId, ControlPlaneException e)
    {
        var (code, message) = ErrorMappingInterceptor.Classify(e, false);
        Reject(connectionId, code, message);
    }

    private static string StatusName(StatusCode code) => code switch
    {
        StatusCode.InvalidArgument => "INVALID_ARGUMENT",
        StatusCode.NotFound => "NOT_FOUND",
        StatusCode.FailedPrecondition => "FAILED_PRECONDITION",
        StatusCode.AlreadyExists => "ALREADY_EXISTS",
        StatusCode.ResourceExhausted => "RESOURCE_EXHAUSTED",
        StatusCode.PermissionDenied => "PERMISSION_DENIED",
        _ => code.ToString().ToUpperInvariant(),
    };

    private static Command ToProto(PendingCommand p) => new()
    {
        CommandId = p.Command.CommandId,
        Sequence = (ulong)p.Sequence,
        Kind = (CommandKind)(int)p.Command.Kind,
        ConnectionId = p.Command.ConnectionId,
        TargetServerId = p.Command.TargetServerId ?? "",
        TargetServerAddress = p.Command.TargetServerAddress ?? "",
        Deadline = Timestamp.FromDateTimeOffset(p.Command.Deadline),
        Reason = p.Command.Reason,
        Backups = { p.Command.Backups.IsDefault ? [] : p.Command.Backups.Select(b => new Contract.V1.BackupServer { ServerId = b.ServerId, Address = b.Address, Zone = b.Zone }) },
        TraceParent = p.Command.TraceParent ?? "",
    };

    public Task CommandsAvailable(long upToSequence)
    {
        if (upToSequence > _lastSent) _doorbell.Release();
        return Task.CompletedTask;
    }

    /// <summary>
    /// The host is stopping: end the stream now with UNAVAILABLE, so the sidecar moves to another gateway at once
    /// instead of holding the shutdown until the host's timeout.
    /// </summary>
    public void StopForShutdown()
    {
        _shuttingDown = true;
        try
        {
            _stop.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // the stream already ended
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_outboxAttached)
                await _outbox.Detach(_epoch);
            else if (_attaching is { } late)
                _ = DetachWhenAttachedAsync(late); // an attach still in flight must not leave the outbox holding a dead stream
        }
        catch (Exception e)
        {
            // A cancelled call included (the host is stopping): disposal must not replace the stream's answer (UNAVAILABLE
            // while stopping) with an INTERNAL one. A stream the outbox still holds is detached on its next attach.
            LogDetachFailed(e, sidecarId);
        }
        try
        {
            if (_reference is not null) cluster.DeleteObjectReference<ISidecarCommandObserver>(_reference);
        }
        catch (Exception e) when (e is ObjectDisposedException or InvalidOperationException or OrleansException)
        {
            LogDetachFailed(e, sidecarId); // the client or silo stopped first
        }
        _stop.Dispose();
        _doorbell.Dispose();
    }

    /// <param name="stopping">The host is stopping: a loop that failed on the way (a grain call to a silo that stops) is
    /// not the stream's answer either; the sidecar is told UNAVAILABLE.</param>
    private static async Task SwallowCancellation(Task task, bool stopping = false)
    {
        try
        {
            await task;
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception) when (stopping)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Sidecar {SidecarId} attached (acked through #{Acked}, {Pending} pending)")]
    private partial void LogAttached(string sidecarId, long acked, int pending);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sidecar {SidecarId} attached elsewhere; closing this stream")]
    private partial void LogSuperseded(string sidecarId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Sidecar {SidecarId}: a message failed unexpectedly, reference {Reference}; the stream goes on")]
    private partial void LogMessageFailed(Exception e, string sidecarId, string reference);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Sidecar {SidecarId}: detach failed")]
    private partial void LogDetachFailed(Exception e, string sidecarId);
}
