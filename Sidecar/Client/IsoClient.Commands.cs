using OrleansControl.Sidecar.Connections;
using OrleansControl.Sidecar.Health;

namespace OrleansControl.Sidecar.Client;

// The commands that change the link: move to another server, drain, stop sending, sign off.
public sealed partial class IsoClient
{
    /// <summary>
    /// Moves the link to <paramref name="server"/> (make-before-break): opens and signs on the new session
    /// first, switches new requests to it, then lets the old one finish what is in flight before signing it
    /// off. If the new server cannot be reached, the old session stays and the error is thrown.
    /// </summary>
    public async Task ConnectToAsync(string server, CancellationToken ct = default)
    {
        if (!IsoEndpoint.TryParse(server, out _))
        {
            throw new ArgumentException($"'{server}' is not host:port", nameof(server));
        }

        Start();
        Volatile.Write(ref _target, server);
        Volatile.Write(ref _accepting, true);
        Volatile.Write(ref _paused, false);
        _sendingStopped = false;
        if (_current is not { IsClosed: false })
        {
            _wake.Set();
            await WaitForSessionAsync(server, ct).ConfigureAwait(false);
            return;
        }

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, _lifetime.Token);
        var fresh = await OpenAsync(server, linked.Token).ConfigureAwait(false);
        _health.Reconnected();
        Install(fresh, server);
    }

    private async Task WaitForSessionAsync(string server, CancellationToken ct)
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

            await signedOn.Task.WaitAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            StateChanged -= OnChange;
        }
    }

    /// <summary>
    /// Graceful drain: no new requests are accepted, the ones in flight get up to <paramref name="deadline"/>
    /// to finish, then the link signs off and closes (and stays closed until <see cref="ConnectToAsync"/>).
    /// Requests still unanswered at the deadline end with <see cref="SidecarError.ConnectionLost"/>.
    /// Returns how many requests were still in flight at the deadline.
    /// </summary>
    public async Task<int> DrainAsync(TimeSpan? deadline = null, CancellationToken ct = default)
    {
        Volatile.Write(ref _accepting, false);
        Volatile.Write(ref _paused, true);
        SetState(ConnectionState.Draining, "drain requested");
        var until = DateTime.UtcNow + (deadline ?? _options.DrainTimeout);
        while (_requests.InFlight > 0 && DateTime.UtcNow < until)
        {
            await Task.Delay(10, ct).ConfigureAwait(false);
        }

        var left = _requests.InFlight;
        IsoSession? session;
        lock (_lock)
        {
            session = _current;
        }

        if (session is not null)
        {
            await SignOffAndCloseAsync(session).ConfigureAwait(false);
        }

        _requests.FailAll(SidecarError.ConnectionLost, $"connection {Name} drained");
        SetState(ConnectionState.Closed, left == 0 ? "drained" : $"drained with {left} requests unanswered");
        _wake.Set();
        return left;
    }

    /// <summary>Stops the application's requests (they fail with <see cref="SidecarError.SendingStopped"/>); the link and its echoes stay up.</summary>
    public void StopSending() => _sendingStopped = true;

    public void ResumeSending() => _sendingStopped = false;

    /// <summary>Retires a session that is no longer current: waits for its requests, signs off, closes.</summary>
    private async Task RetireAsync(IsoSession session, TimeSpan deadline)
    {
        var until = DateTime.UtcNow + deadline;
        while (_requests.InFlightOn(session.Id) > 0 && DateTime.UtcNow < until && !session.IsClosed)
        {
            await Task.Delay(10).ConfigureAwait(false);
        }

        await SignOffAndCloseAsync(session).ConfigureAwait(false);
    }

    private async Task SignOffAndCloseAsync(IsoSession session)
    {
        if (_options.SignOn && !session.IsClosed)
        {
            try
            {
                await NetworkRequestAsync(session, NetworkManagement.SignOff(_wire, NextStan(), _options.InstitutionId), _options.SignOnTimeout).ConfigureAwait(false);
            }
            catch (SidecarException ex)
            {
                Log.SignOffUnanswered(_logger, session.Id, ex.Error);
            }
        }

        await session.CloseAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
    }
}
