using OrleansControl.Contract.V1;

namespace OrleansControl.Sidecar.Agent;

// Commands from the controller, each carried out once (by command id) and acknowledged with where the link
// is signed on when it ends: the controller completes a move on that evidence, not on the command.
public sealed partial class SidecarAgent
{
    private async Task<CommandAck> ExecuteAsync(Command command, CancellationToken ct)
    {
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

        // The sequence only feeds the cumulative ack (SidecarRegister.last_acked_sequence), never the dedupe.
        if (command.Sequence != 0)
        {
            Interlocked.Exchange(ref _lastAcked, Math.Max(command.Sequence, Interlocked.Read(ref _lastAcked)));
        }

        var kind = command.Kind.ToString();
        Log.CommandExecuted(_logger, command.CommandId, command.Sequence, kind, success, detail);
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
            Detail = detail,
            ServerAddress = _link.SignedOnAt ?? "",
        };
    }

    private async Task<(bool Success, string Detail)> CarryOutAsync(Command command, CancellationToken ct)
    {
        var deadline = command.Deadline is { } d && d.ToDateTimeOffset() > DateTimeOffset.UtcNow
            ? d.ToDateTimeOffset() - DateTimeOffset.UtcNow
            : (TimeSpan?)null;
        switch (command.Kind)
        {
            case CommandKind.Connect:
            case CommandKind.ReconnectElsewhere:
                if (string.IsNullOrWhiteSpace(command.TargetServerAddress))
                {
                    return (false, "target_server_address is required");
                }

                // CONNECT opens a link that is not up; it never pulls a working one elsewhere (a restarted controller's
                // fresh assignment would): the ack says where the link is and the registry follows it.
                if (command.Kind == CommandKind.Connect && _link.SignedOnAt is { } current)
                {
                    return (true, $"already signed on at {current}; left there");
                }

                using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct))
                {
                    timeout.CancelAfter(deadline ?? TimeSpan.FromSeconds(30));
                    _assigned = command.TargetServerAddress;
                    try
                    {
                        await _link.ConnectToAsync(command.TargetServerAddress, timeout.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                    {
                        return (false, $"not signed on to {command.TargetServerAddress} before the deadline; still trying");
                    }
                }

                return (true, $"signed on to {command.TargetServerAddress}");
            case CommandKind.Drain:
            case CommandKind.SignOff:
                var left = await _link.DrainAsync(deadline ?? _options.CommandDrainDeadline, ct).ConfigureAwait(false);
                return (true, left == 0 ? "drained and signed off" : $"signed off with {left} requests unanswered at the deadline");
            case CommandKind.StopSending:
                _link.StopSending();
                return (true, "sending stopped");
            default:
                return (false, $"unknown command kind {(int)command.Kind}");
        }
    }
}
