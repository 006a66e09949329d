using OrleansControl.Sidecar.Connections;
using OrleansControl.Sidecar.Health;

namespace OrleansControl.Sidecar.Client;

// Changing servers. Every change of target is a Move; a newer one abandons at once whatever the older one
// (or the reconnect loop) had in progress: a connect or a sign-on to the old target, never a session that is up.
public sealed partial class IsoClient
{
    /// <summary>
    /// Moves the link to <paramref name="server"/> and keeps it there (the controller's CONNECT and
    /// RECONNECT_ELSEWHERE, the local /control/connect and /control/failover). With a session up this is
    /// make-before-break (<see cref="SwitchToAsync"/>): if the new server cannot be signed on to, the old session
    /// stays, the link's target goes back to it and the error is thrown. With none up, the link keeps trying the
    /// new server (with backoff) and this returns once it is signed on there.
    /// </summary>
    /// <exception cref="SidecarException"><see cref="SidecarError.Superseded"/> when a newer move replaced this one first.</exception>
    public async Task ConnectToAsync(string server, CancellationToken ct = default)
    {
        EnsureEndpoint(server);
        Start();
        Volatile.Write(ref _accepting, true);
        Volatile.Write(ref _paused, false);
        _sendingStopped = false;
        if (_current is { IsClosed: false })
        {
            try
            {
                await SwitchToAsync(server, ct).ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (_current is not { IsClosed: false } && !ct.IsCancellationRequested
                                       && ex is not SidecarException { Error: SidecarError.Superseded })
            {
                // The old session died while the new one was being opened: keep trying the commanded server.
            }
        }

        var move = BeginMove(server, exclusive: false);
        await WaitForSessionAsync(server, move, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// One make-before-break attempt to <paramref name="server"/>: opens and signs on while the current session (if
    /// any) stays up, then new requests go to the new session and the old one is retired (its requests keep their own
    /// timeouts). The reconnect loop stands aside meanwhile. On failure nothing changes: the target goes back to what
    /// it was and the error is thrown. A drained or closed link is not reopened by this.
    /// </summary>
    public async Task SwitchToAsync(string server, CancellationToken ct = default)
    {
        EnsureEndpoint(server);
        if (Volatile.Read(ref _paused))
        {
            throw new SidecarException(SidecarError.NotAccepting, $"connection {Name} is drained or closed");
        }

        Start();
        var move = BeginMove(server, exclusive: true);
        try
        {
            IsoSession fresh;
            using (var attempt = CancellationTokenSource.CreateLinkedTokenSource(ct, _lifetime.Token, move.Abandon.Token))
            {
                try
                {
                    fresh = await OpenAsync(server, attempt.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (move.Abandon.IsCancellationRequested && !ct.IsCancellationRequested)
                {
                    throw Superseded(server);
                }
            }

            var paused = Volatile.Read(ref _paused);
            if (paused || !Install(fresh, server, move))
            {
                await SignOffAndCloseAsync(fresh).ConfigureAwait(false);
                throw paused ? new SidecarException(SidecarError.NotAccepting, $"connection {Name} was drained during the move") : Superseded(server);
            }

            _health.Reconnected();
            _metrics.Reconnect();
        }
        catch
        {
            RestoreTarget(move);
            throw;
        }
        finally
        {
            EndExclusive(move);
        }
    }

    private static void EnsureEndpoint(string server)
    {
        if (!IsoEndpoint.TryParse(server, out _))
        {
            throw new ArgumentException($"'{server}' is not host:port", nameof(server));
        }
    }

    /// <summary>Makes <paramref name="server"/> the target and abandons the attempt the previous move (or the loop) had under way.</summary>
    private Move BeginMove(string server, bool exclusive)
    {
        Move previous, next;
        lock (_lock)
        {
            previous = _move;
            next = new Move(_target, exclusive);
            _move = next;
            Volatile.Write(ref _target, server);
        }

        previous.Abandon.Cancel(); // outside the lock: its callbacks abort sessions, which take the lock
        _wake.Set();
        return next;
    }

    /// <summary>A failed switch leaves the link where it was: the target goes back, unless a newer move owns it.</summary>
    private void RestoreTarget(Move move)
    {
        lock (_lock)
        {
            if (_move == move)
            {
                Volatile.Write(ref _target, move.PreviousTarget);
            }
        }
    }

    private void EndExclusive(Move move)
    {
        lock (_lock)
        {
            move.Exclusive = false;
        }

        _wake.Set();
    }

    private SidecarException Superseded(string server) =>
        new(SidecarError.Superseded, $"move to {server} abandoned: the link was moved to {Server ?? "nowhere"} meanwhile");

    private async Task WaitForSessionAsync(string server, Move move, CancellationToken ct)
    {
        var signedOn = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnChange(ConnectionStateChanged change)
        {
            if (change.Current is ConnectionState.SignedOn && Server == server)
            {
                signedOn.TrySetResult();
            }
        }

        StateChanged += OnChange;
        try
        {
            if (State is ConnectionState.SignedOn or ConnectionState.Degraded && _current is { IsClosed: false } && Server == server)
            {
                return;
            }

            using var wait = CancellationTokenSource.CreateLinkedTokenSource(ct, move.Abandon.Token);
            await signedOn.Task.WaitAsync(wait.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (move.Abandon.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            throw Superseded(server);
        }
        finally
        {
            StateChanged -= OnChange;
        }
    }

    /// <summary>
    /// One change of the link's target. <see cref="Abandon"/> is cancelled by the next move and ends the connect or
    /// sign-on in progress for this one; while <see cref="Exclusive"/> a switch makes its own attempt and the
    /// reconnect loop waits.
    /// </summary>
    private sealed class Move(string? previousTarget, bool exclusive)
    {
        public CancellationTokenSource Abandon { get; } = new();

        public string? PreviousTarget { get; } = previousTarget;

        /// <summary>Guarded by the client's lock.</summary>
        public bool Exclusive { get; set; } = exclusive;
    }
}
