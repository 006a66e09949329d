using System.Threading.Channels;
using OrleansControl.Contract.V1;
using OrleansControl.Sidecar.Health;

namespace OrleansControl.Sidecar.Agent;

// The sidecar's own failover: where the data path recovers without waiting for the control path.
// - Link down (reset, refused, echo declared it down): with the controller attached, it gets MoveCommandTimeout to
//   send a target; if none comes, or the controller is unreachable, the link moves to the first usable backup
//   (BackupSelection), then the next if that one fails. Each failed reconnect of a link still down starts another round.
// - Link suspect (an echo miss, still up): make-before-break to the first usable backup at once, no waiting.
// - The controller decides whenever it can be reached: a move, drain or sign-off command that arrives cancels the
//   sidecar's own move, and no own move starts while a controller move is being carried out.
// - The move is reported as a SIGNED_ON state report with moved_from (at once, or when the stream is attached again).
public sealed partial class SidecarAgent
{
    private volatile IReadOnlyList<RankedBackup> _backups = [];
    private CancellationTokenSource? _ownFailover; // guarded by _lock
    private OwnMove? _lastOwnMove;                 // guarded by _lock
    private int _ownMoveResend;                    // 1 while a resend of its report waits
    private volatile ChannelWriter<SidecarMessage>? _ownMoveSentOn; // the stream its report went out on, not yet applied

    private void OnLinkSuspected(LinkSuspicion suspicion)
    {
        if (_options.MakeBeforeBreakOnSuspicion)
        {
            StartOwnFailover(suspicion.Server, "suspect", suspect: true);
        }
    }

    private void OnLinkDown()
    {
        if (_link.State is ConnectionState.Down or ConnectionState.Connecting)
        {
            StartOwnFailover(_link.Server, "down", suspect: false);
        }
    }

    private void StartOwnFailover(string? from, string cause, bool suspect)
    {
        if (!_options.BackupFailover || from is null || _backups.Count == 0 || _stopping.IsCancellationRequested)
        {
            return;
        }

        CancellationTokenSource failover;
        lock (_lock)
        {
            if (_ownFailover is not null || _runningMove is not null)
            {
                return; // one at a time, and a controller move being carried out decides
            }

            failover = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
            _ownFailover = failover;
        }

        _ = Task.Run(() => OwnFailoverAsync(from, cause, suspect, failover));
    }

    /// <summary>The controller decided (a move, drain or sign-off arrived): the sidecar's own move in progress is dropped.</summary>
    private void CancelOwnFailover()
    {
        CancellationTokenSource? failover;
        lock (_lock)
        {
            failover = _ownFailover;
        }

        CancelQuietly(failover);
    }

    private async Task OwnFailoverAsync(string from, string cause, bool suspect, CancellationTokenSource failover)
    {
        var ct = failover.Token;
        try
        {
            if (!suspect && _attached)
            {
                await Task.Delay(_options.MoveCommandTimeout, ct).ConfigureAwait(false);
            }

            foreach (var backup in BackupSelection.Candidates(_backups, from, _link.SignedOnAt))
            {
                ct.ThrowIfCancellationRequested();
                if (!suspect && _link.SignedOnAt is not null)
                {
                    return; // it came back (reconnected where it was) while the controller was being waited for
                }

                var move = new OwnMove(from, backup.Address, cause, DateTimeOffset.UtcNow, Reported: false);
                OwnMove? before;
                lock (_lock)
                {
                    (before, _lastOwnMove) = (_lastOwnMove, move); // set first: the SignedOn report of the switch carries it
                }

                try
                {
                    await _link.SwitchToAsync(backup.Address, ct).ConfigureAwait(false);
                    Log.MovedOnOwn(_logger, from, backup.Address, cause);
                    Report(ConnectionState.SignedOn, $"moved on its own from {from} ({cause})");
                    return;
                }
                catch (Exception ex)
                {
                    lock (_lock)
                    {
                        _lastOwnMove = _lastOwnMove == move ? before : _lastOwnMove;
                    }

                    if (ex is OperationCanceledException || ex is SidecarException { Error: SidecarError.Superseded or SidecarError.NotAccepting })
                    {
                        return; // the controller (or a drain) decided meanwhile
                    }

                    Log.OwnMoveFailed(_logger, from, backup.Address, ex.Message);
                }
            }

            Log.NoUsableBackup(_logger, from, _backups.Count);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        finally
        {
            lock (_lock)
            {
                if (_ownFailover == failover)
                {
                    _ownFailover = null;
                }
            }

            failover.Dispose();
        }
    }

    /// <summary>COMMAND_KIND_BACKUPS: the newest list replaces the older.</summary>
    private (bool Success, string Detail) KeepBackups(Command command)
    {
        var backups = BackupSelection.Accept(command.Backups.Select(b => new RankedBackup(b.ServerId, b.Address, b.Zone)));
        _backups = backups;
        var dropped = command.Backups.Count - backups.Count;
        var detail = backups.Count == 0 ? "no backups" : $"{backups.Count} backups: {string.Join(", ", backups.Select(b => b.Address))}";
        return (true, dropped > 0 ? $"{detail} ({dropped} invalid or repeated dropped)" : detail);
    }

    /// <summary>
    /// Sends a state report if the stream is attached. A SIGNED_ON report at the server of an own move not yet
    /// reported carries moved_from (once per stream); the move counts as reported once the controller says it applied it
    /// (Applied.moved_from), not once written: until then the first such report after a re-attach carries it again, and
    /// a retryable rejection about the connection sends it again.
    /// </summary>
    private void Report(ConnectionState state, string detail, ChannelWriter<SidecarMessage>? outbox = null)
    {
        outbox ??= _outbox?.Writer;
        if (outbox is null || ServerMode || _standby)
        {
            return; // a standby carries no link: it has nothing to say of one
        }

        var message = StateReport(state, detail);
        OwnMove? own;
        lock (_lock)
        {
            own = _lastOwnMove;
        }

        var carries = own is { Reported: false } && message.StateReport.State == LinkState.SignedOn && message.StateReport.ServerAddress == own.To
            && _ownMoveSentOn != outbox;
        if (carries)
        {
            message.StateReport.MovedFrom = own!.From;
        }

        if (outbox.TryWrite(message) && carries)
        {
            _ownMoveSentOn = outbox; // once per stream, unless a retryable rejection asks for it again
        }
    }

    /// <summary>The controller recorded the own move that left <paramref name="from"/>.</summary>
    private void OwnMoveRecorded(string from)
    {
        lock (_lock)
        {
            if (_lastOwnMove is { Reported: false } own && own.From == from)
            {
                _lastOwnMove = own with { Reported = true };
            }
        }
    }

    /// <summary>A retryable rejection about our connection while an own move is not recorded: its report is sent again, once at a time.</summary>
    private void ReportOwnMoveAgain(ChannelWriter<SidecarMessage> outbox, CancellationToken ct)
    {
        OwnMove? own;
        lock (_lock)
        {
            own = _lastOwnMove;
        }

        if (own is not { Reported: false } || _link.SignedOnAt != own.To || Interlocked.Exchange(ref _ownMoveResend, 1) == 1)
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500), ct).ConfigureAwait(false);
                _ownMoveSentOn = null;
                Report(ConnectionState.SignedOn, $"moved on its own from {own.From} ({own.Cause}; sent again)", outbox);
            }
            catch (OperationCanceledException)
            {
                // the stream ended: the first report after the re-attach carries it
            }
            finally
            {
                Volatile.Write(ref _ownMoveResend, 0);
            }
        }, CancellationToken.None);
    }

    private static void CancelQuietly(CancellationTokenSource? source)
    {
        try
        {
            source?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // it ended meanwhile
        }
    }
}
