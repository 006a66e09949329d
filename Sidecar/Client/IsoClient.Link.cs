using OrleansControl.Codec;
using OrleansControl.Sidecar.Connections;
using OrleansControl.Sidecar.Health;

namespace OrleansControl.Sidecar.Client;

// The link's life: connect and sign on, supervise (echo tests: IsoClient.Echo.cs), reconnect.
public sealed partial class IsoClient
{
    private async Task RunAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var session = _current;
                if (session is { IsClosed: false })
                {
                    // Supervise until the session ends or a command changes things.
                    await Task.WhenAny(session.Closed, _wake.WaitAsync(Timeout.InfiniteTimeSpan, ct)).ConfigureAwait(false);
                    continue;
                }

                string? target;
                Move move;
                bool standAside;
                lock (_lock)
                {
                    (target, move, standAside) = (_target, _move, _move.Exclusive);
                }

                if (target is null || standAside || Volatile.Read(ref _paused))
                {
                    // Nothing to connect to, drained, or a switch is making its own attempt.
                    await _wake.WaitAsync(Timeout.InfiniteTimeSpan, ct).ConfigureAwait(false);
                    continue;
                }

                SetState(ConnectionState.Connecting, $"connecting to {target}");
                try
                {
                    IsoSession fresh;
                    using (var attempt = CancellationTokenSource.CreateLinkedTokenSource(ct, move.Abandon.Token))
                    {
                        fresh = await OpenAsync(target, attempt.Token).ConfigureAwait(false);
                    }

                    _backoff.Reset();
                    if (Volatile.Read(ref _paused) || !Install(fresh, target, move))
                    {
                        // A drain or a move arrived while this attempt was under way: do not start using it.
                        await SignOffAndCloseAsync(fresh).ConfigureAwait(false);
                    }
                }
                catch (OperationCanceledException) when (move.Abandon.IsCancellationRequested && !ct.IsCancellationRequested)
                {
                    // A move abandoned this attempt: the new target is tried at once, with a fresh backoff.
                    _backoff.Reset();
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
                {
                    var delay = _backoff.Next();
                    Log.ConnectFailed(_logger, Name, target, _backoff.Attempt, (long)delay.TotalMilliseconds, ex.Message);
                    SetState(ConnectionState.Down, $"connect to {target} failed: {ex.Message}");
                    await _wake.WaitAsync(delay, ct).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
            }
        }
    }

    /// <summary>Opens a socket to <paramref name="target"/> and signs on; the session is not yet used for requests.</summary>
    private async Task<IsoSession> OpenAsync(string target, CancellationToken ct)
    {
        var endpoint = IsoEndpoint.Parse(target);
        var (stream, socket) = await IsoTransport.ConnectAsync(endpoint, _options.Tls, _options.ConnectTimeout, ct).ConfigureAwait(false);
        var session = new IsoSession(stream, socket, socket.RemoteEndPoint, _wire, OnMessage, _logger, OnUnsendable);
        _ = session.Closed.ContinueWith(t => OnSessionClosed(session, t.Result), CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        session.Start();
        if (!_options.SignOn)
        {
            return session;
        }

        try
        {
            IsoMessage response;
            // A move abandons a sign-on in progress too: closing the session fails the pending 0800 at once.
            using (ct.Register(static s => ((IsoSession)s!).Abort("sign-on abandoned"), session))
            {
                try
                {
                    response = await NetworkRequestAsync(session, NetworkManagement.SignOn(_wire, NextStan(), _options.InstitutionId), _options.SignOnTimeout).ConfigureAwait(false);
                }
                catch (SidecarException) when (ct.IsCancellationRequested)
                {
                    throw new OperationCanceledException($"sign-on to {target} abandoned", ct);
                }
            }

            if (!NetworkManagement.IsApproved(response))
            {
                throw new SidecarException(SidecarError.SignOnRefused, $"sign-on refused by {target} with response code {IsoWire.Get(response, 39) ?? "none"}");
            }

            return session;
        }
        catch
        {
            await session.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Makes a signed-on session the one requests go to; a previous live one is retired (drained, signed off).
    /// False (nothing changed) when <paramref name="move"/> is no longer the latest: a newer move owns the link.
    /// </summary>
    private bool Install(IsoSession session, string address, Move move)
    {
        IsoSession? previous;
        TaskCompletionSource? replaced = null;
        lock (_lock)
        {
            if (_move != move)
            {
                return false;
            }

            previous = _current;
            _current = session;
            _currentAddress = address;
            if (previous is not null && previous != session)
            {
                replaced = ReplaceSession();
            }
        }

        replaced?.TrySetResult(); // a reversal waiting for its 0430 on the previous session goes again on this one

        _health.SessionStarted();
        if (previous is { IsClosed: false } && previous != session)
        {
            _ = RetireAsync(previous, _options.DrainTimeout);
        }

        if (session.IsClosed)
        {
            return true; // lost already; OnSessionClosed wakes the loop
        }

        SetState(ConnectionState.SignedOn, $"signed on to {session.Remote}");
        FlushQueued(session);
        _linkUp.Set();
        _ = EchoLoopAsync(session);
        _wake.Set();
        return true;
    }

    private void OnSessionClosed(IsoSession session, string reason)
    {
        bool wasCurrent;
        lock (_lock)
        {
            wasCurrent = _current == session;
            if (wasCurrent)
            {
                _current = null;
                _currentAddress = null;
            }
        }

        // The link reads Down before any request on it fails, so a caller that sees ConnectionLost also sees the state.
        // While draining, DrainAsync reports Closed itself once it is done.
        var reconnect = wasCurrent && !_lifetime.IsCancellationRequested && !Volatile.Read(ref _paused);
        if (reconnect)
        {
            _health.Reconnected();
            _metrics.Reconnect();
            SetState(ConnectionState.Down, reason);
        }

        var lost = _requests.FailSession(session.Id, SidecarError.ConnectionLost, $"connection {Name} lost: {reason}", _health.RequestLost);
        _network.FailSession(session.Id, SidecarError.ConnectionLost, $"connection {Name} lost: {reason}");
        if (lost > 0)
        {
            Log.RequestsFailed(_logger, Name, lost, SidecarError.ConnectionLost, session.Id);
        }

        if (reconnect)
        {
            _wake.Set();
        }
    }

    private void OnUnsendable(IsoMessage message, Codec.Iso8583Exception error)
    {
        var failure = new SidecarException(SidecarError.InvalidMessage, $"MTI {IsoWire.MtiOf(message):D4} could not be packed: {error.Message}", error);
        var key = _keys.KeyOf(message);
        if (!_requests.TryFail(key, message, failure))
        {
            _network.TryFail(key, message, failure);
        }
    }

    /// <summary>Sends a network-management request outside the application's in-flight cap.</summary>
    private async Task<IsoMessage> NetworkRequestAsync(IsoSession session, IsoMessage request, TimeSpan timeout)
    {
        var pending = _network.Register(_keys.KeyOf(request), request, timeout);
        if (!pending.TryAssign(session.Id) || !session.TrySend(request))
        {
            _network.TryFail(pending, new SidecarException(SidecarError.ConnectionLost, $"session {session.Id} is closed"));
        }

        return await pending.Task.ConfigureAwait(false);
    }
}
