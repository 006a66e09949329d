using System.Diagnostics;
using OrleansControl.Sidecar.Connections;
using OrleansControl.Sidecar.Health;

namespace OrleansControl.Sidecar.Client;

// The commands that change the link besides moves (IsoClient.Moves.cs): drain, stop sending, sign off.
public sealed partial class IsoClient
{
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

    /// <summary>
    /// Retires a session that is no longer current: waits for its requests, signs off, closes. It waits at least
    /// <paramref name="deadline"/>, and longer while a request on it has time left: requests in flight on a session
    /// that was moved away from keep their own timeout (they end answered or <see cref="SidecarError.Timeout"/>).
    /// </summary>
    private async Task RetireAsync(IsoSession session, TimeSpan deadline)
    {
        var until = Stopwatch.GetTimestamp() + (long)(deadline.TotalSeconds * Stopwatch.Frequency);
        var sweepMargin = Stopwatch.Frequency / 5; // the matcher's sweeper ends a timed-out request within 50 ms
        while (_requests.InFlightOn(session.Id) > 0 && !session.IsClosed)
        {
            var now = Stopwatch.GetTimestamp();
            if (now >= until && now >= _requests.LatestDeadlineOn(session.Id) + sweepMargin)
            {
                break;
            }

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
