using OrleansControl.Codec;
using OrleansControl.Sidecar.Connections;
using OrleansControl.Sidecar.Health;

namespace OrleansControl.Sidecar.Client;

// Supervision of the signed-on session: echo tests, and the suspicion they raise before the link is declared down.
public sealed partial class IsoClient
{
    /// <summary>
    /// Echo test whenever the peer has been silent for <see cref="IsoClientOptions.EchoInterval"/>. Silence is
    /// measured on what we receive, so a peer that stops answering (a black hole) is found even while the
    /// application keeps sending. After a miss the next echo goes out at once (the peer is still silent).
    /// </summary>
    private async Task EchoLoopAsync(IsoSession session)
    {
        var interval = _options.EchoInterval;
        try
        {
            // A session that was moved away from stops echoing: its requests keep their own timeouts, and its
            // silence must not count against the session that replaced it.
            while (!session.IsClosed && !_lifetime.IsCancellationRequested && session == _current)
            {
                var idle = session.IdleFor;
                if (idle < interval)
                {
                    await Task.WhenAny(Task.Delay(interval - idle, _lifetime.Token), session.Closed).ConfigureAwait(false);
                    continue;
                }

                _health.EchoSent();
                var started = System.Diagnostics.Stopwatch.GetTimestamp();
                string outcome;
                try
                {
                    var response = await NetworkRequestAsync(session, NetworkManagement.Echo(_wire, NextStan()), _options.EchoTimeout).ConfigureAwait(false);
                    if (session != _current)
                    {
                        return;
                    }

                    if (NetworkManagement.IsApproved(response))
                    {
                        var rtt = System.Diagnostics.Stopwatch.GetElapsedTime(started);
                        _health.EchoAnswered(rtt);
                        _metrics.EchoAnswered(rtt);
                        EvaluateHealth();
                        continue;
                    }

                    _health.EchoFailed();
                    _metrics.EchoMissed("refused");
                    outcome = $"refused ({IsoWire.Get(response, 39) ?? "no code"})";
                }
                catch (SidecarException ex) when (ex.Error == SidecarError.Timeout && session != _current)
                {
                    return;
                }
                catch (SidecarException ex) when (ex.Error == SidecarError.Timeout)
                {
                    _health.EchoTimedOut();
                    _metrics.EchoMissed("timed_out");
                    outcome = "timed out";
                }
                catch (SidecarException ex) when (ex.Error == SidecarError.ConnectionLost)
                {
                    return;
                }

                var misses = _health.ConsecutiveEchoMisses;
                Log.EchoMissed(_logger, Name, outcome, session.Id, misses);
                if (misses >= _options.EchoMissesBeforeDown)
                {
                    session.Abort($"{misses} echo tests missed");
                    return;
                }

                EvaluateHealth();
                RaiseSuspected(session, misses);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// Raised on each echo miss that has not (yet) taken the link down, while the session is still up: the moment to
    /// open a backup before the old link is declared dead (make-before-break on suspicion). Handlers must be quick.
    /// </summary>
    public event Action<LinkSuspicion>? Suspected;

    private void RaiseSuspected(IsoSession session, int misses)
    {
        string? address;
        lock (_lock)
        {
            address = _current == session ? _currentAddress : null;
        }

        if (address is not null)
        {
            Suspected?.Invoke(new LinkSuspicion(address, misses, DateTimeOffset.UtcNow));
        }
    }
}
