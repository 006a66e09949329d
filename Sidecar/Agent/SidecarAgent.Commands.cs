using System.Threading.Channels;
using OrleansControl.Contract.V1;
using OrleansControl.Sidecar.Telemetry;

namespace OrleansControl.Sidecar.Agent;

// Commands from the controller, each carried out once (by command id) and acknowledged with where the link
// is signed on when it ends: the controller completes a move on that evidence, not on the command.
public sealed partial class SidecarAgent
{
    private async Task<CommandAck> ExecuteAsync(Command command, CancellationToken ct)
    {
        using var span = SidecarTracing.StartFrom($"command {command.Kind}", command.TraceParent);
        span?.SetTag("orleanscontrol.command_id", command.CommandId);
        span?.SetTag("orleanscontrol.connection_id", command.ConnectionId);
        bool success;
        string detail;
        var before = default(CommandOutcome);
        var known = command.CommandId.Length > 0 && _executed.TryGet(command.CommandId, out before);
        if (known)
        {
            // A resend (after a reconnect of the stream): done already, acknowledge the same outcome without redoing it.
            (success, detail) = (before.Success, $"already executed: {before.Detail}");
        }
        else if (!string.IsNullOrEmpty(command.ConnectionId) && command.ConnectionId != _options.EffectiveConnectionId)
        {
            (success, detail) = (false, $"connection '{command.ConnectionId}' is not served by this sidecar");
        }
        else
        {
            try
            {
                (success, detail) = await CarryOutAsync(command, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                (success, detail) = (false, ex.Message);
            }
        }

        if (!known && command.CommandId.Length > 0)
        {
            _executed.Remember(command.CommandId, new CommandOutcome(success, detail));
        }

        var kind = command.Kind.ToString();
        Log.CommandExecuted(_logger, command.CommandId, command.Sequence, kind, success, detail);
        _link.Metrics.Command(kind, success);
        lock (_lock)
        {
            _recent.Enqueue(new CommandRecord(command.CommandId, command.Sequence, kind, success, detail, DateTimeOffset.UtcNow));
            while (_recent.Count > 20)
            {
                _recent.Dequeue();
            }
        }

        return new CommandAck
        {
            CommandId = command.CommandId,
            Sequence = command.Sequence,
            Success = success,
            Detail = detail.Length > 512 ? detail[..512] : detail, // the controller refuses a longer one (and the ack would never apply)
            ServerAddress = _link.SignedOnAt ?? "",
            TraceParent = span?.Id ?? "",
        };
    }

    private async Task<(bool Success, string Detail)> CarryOutAsync(Command command, CancellationToken ct)
    {
        TimeSpan? deadline = null;
        if (command.Deadline is { } d)
        {
            deadline = d.ToDateTimeOffset() - DateTimeOffset.UtcNow;
            if (deadline <= TimeSpan.Zero)
            {
                // The controller has moved on by now (it retries or tries the next target): doing it late would fight it.
                return (false, $"deadline passed {-deadline.Value.TotalMilliseconds:F0} ms before it could run; not carried out");
            }
        }

        switch (command.Kind)
        {
            case CommandKind.Connect:
            case CommandKind.ReconnectElsewhere:
                // CONNECT opens a link that is not up; it never pulls a working one elsewhere (a restarted controller's
                // fresh assignment would): the ack says where the link is and the registry follows it.
                if (command.Kind == CommandKind.Connect && _link.SignedOnAt is { } current)
                {
                    return (true, $"already signed on at {current}; left there");
                }

                if (_standby)
                {
                    // Activated (DR): from now on this sidecar carries the link and says what it does; once the link
                    // has been tried, not before: a heartbeat in between would say the never-started link is FAILED,
                    // and the controller would count the activation as failed (seen in DrClientTests). The ack says
                    // how the attempt went.
                    try
                    {
                        return await MoveAsync(command, deadline ?? _options.CommandMoveDeadline, ct).ConfigureAwait(false);
                    }
                    finally
                    {
                        _standby = false;
                        Log.StandbyChanged(_logger, _options.EffectiveConnectionId, false);
                    }
                }

                return await MoveAsync(command, deadline ?? _options.CommandMoveDeadline, ct).ConfigureAwait(false);
            case CommandKind.Drain:
            case CommandKind.SignOff:
                var left = await _link.DrainAsync(deadline ?? _options.CommandDrainDeadline, ct).ConfigureAwait(false);
                return (true, left == 0 ? "drained and signed off" : $"signed off with {left} requests unanswered at the deadline");
            case CommandKind.StopSending:
                _link.StopSending();
                return (true, "sending stopped");
            case CommandKind.Backups:
                return KeepBackups(command);
            default:
                return (false, $"unknown command kind {(int)command.Kind}");
        }
    }

    private async Task<(bool Success, string Detail)> MoveAsync(Command command, TimeSpan deadline, CancellationToken ct)
    {
        var target = command.TargetServerAddress;
        if (string.IsNullOrWhiteSpace(target))
        {
            return (false, "target_server_address is required");
        }

        using var move = CancellationTokenSource.CreateLinkedTokenSource(ct);
        move.CancelAfter(deadline);
        var running = new RunningMove(command.CommandId, move);
        lock (_lock)
        {
            _runningMove = running;
        }

        _assigned = target;
        try
        {
            await _link.ConnectToAsync(target, move.Token).ConfigureAwait(false);
            return (true, $"signed on to {target}");
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            if (running.PreemptedBy is { } by)
            {
                return (false, $"move to {target} abandoned for command {by}");
            }

            return (false, _link.Server == target
                ? $"not signed on to {target} before the deadline; still trying"
                : $"not signed on to {target} before the deadline; the link stays at {_link.SignedOnAt ?? _link.Server ?? "nothing"}");
        }
        finally
        {
            lock (_lock)
            {
                if (_runningMove == running)
                {
                    _runningMove = null;
                }
            }
        }
    }

    /// <summary>
    /// Runs on the stream's reader as a command arrives, before it is queued: a move, drain or sign-off is the
    /// controller deciding, so it cancels the sidecar's own move and abandons a controller move still in progress (a
    /// connect or sign-on to a dead server must not hold up the next target). A resend of a done command decides nothing.
    /// </summary>
    private void OnCommandArrived(Command command)
    {
        if (command.Kind is not (CommandKind.Connect or CommandKind.ReconnectElsewhere or CommandKind.Drain or CommandKind.SignOff)
            || (command.CommandId.Length > 0 && _executed.TryGet(command.CommandId, out _))
            || command.Deadline?.ToDateTimeOffset() <= DateTimeOffset.UtcNow)
        {
            return;
        }

        CancelOwnFailover();
        RunningMove? running;
        lock (_lock)
        {
            running = _runningMove;
        }

        if (running is not null && running.CommandId != command.CommandId)
        {
            running.PreemptedBy = command.CommandId;
            CancelQuietly(running.Cancel);
        }
    }

    /// <summary>Carries the stream's commands out one at a time, in order, and acknowledges each.</summary>
    private async Task RunCommandsAsync(ChannelReader<Command> commands, ChannelWriter<SidecarMessage> outbox, CancellationToken ct)
    {
        await foreach (var command in commands.ReadAllAsync(ct).ConfigureAwait(false))
        {
            var ack = await ExecuteAsync(command, ct).ConfigureAwait(false);
            // The sequence only feeds the cumulative ack (SidecarRegister.last_acked_sequence), never the dedupe; and
            // only once the controller says it applied the ack (UnappliedAcks).
            _acks.Sent(ack);
            outbox.TryWrite(new SidecarMessage { CommandAck = ack });
        }
    }

    /// <summary>
    /// A rejection the controller says is worth retrying (UNAVAILABLE, DEADLINE_EXCEEDED: nothing was applied): the ack it
    /// names is sent again on the same stream after a short wait, unless it was applied meanwhile.
    /// </summary>
    private void OnRejected(Rejected rejected, ChannelWriter<SidecarMessage> outbox, CancellationToken ct)
    {
        if (rejected.Code is not ("UNAVAILABLE" or "DEADLINE_EXCEEDED"))
        {
            return; // settled: sending it again would change nothing (an unapplied ack still comes back after a re-attach)
        }

        if (rejected.CommandAckSequence != 0)
        {
            if (_acks.Resend(rejected.CommandAckSequence) is { } resend)
            {
                _ = SendAgainAsync(new SidecarMessage { CommandAck = resend.Ack }, resend.After, rejected.CommandAckSequence, outbox, ct);
            }
        }
        else if (rejected.ConnectionId == _options.EffectiveConnectionId)
        {
            ReportOwnMoveAgain(outbox, ct);
        }
    }

    private async Task SendAgainAsync(SidecarMessage message, TimeSpan after, ulong sequence, ChannelWriter<SidecarMessage> outbox, CancellationToken ct)
    {
        try
        {
            await Task.Delay(after, ct).ConfigureAwait(false);
            if (_acks.IsWaiting(sequence))
            {
                Log.AckSentAgain(_logger, message.CommandAck.CommandId, sequence);
                outbox.TryWrite(message);
            }
        }
        catch (OperationCanceledException)
        {
            // the stream ended: a re-attach brings the command again
        }
    }

    /// <summary>A controller move being carried out, so that the next one can abandon it.</summary>
    private sealed class RunningMove(string commandId, CancellationTokenSource cancel)
    {
        public string CommandId { get; } = commandId;

        public CancellationTokenSource Cancel { get; } = cancel;

        public volatile string? PreemptedBy;
    }
}
