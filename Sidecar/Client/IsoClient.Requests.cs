using OrleansControl.Codec;
using OrleansControl.Sidecar.Connections;
using OrleansControl.Sidecar.Matching;

namespace OrleansControl.Sidecar.Client;

// The application's requests: accepted, written to the signed-on session, matched to their responses.
public sealed partial class IsoClient
{
    /// <summary>
    /// Sends a request and returns its response. Otherwise throws <see cref="SidecarException"/>, whose
    /// <see cref="SidecarException.Outcome"/> says what the application may conclude: at once, not sent, for
    /// <see cref="SidecarError.NotAccepting"/>, <see cref="SidecarError.SendingStopped"/>, <see cref="SidecarError.InFlightLimit"/>
    /// and <see cref="SidecarError.DuplicateKey"/>; later, not sent, for <see cref="SidecarError.NoLink"/> (no session took it in
    /// time) and <see cref="SidecarError.InvalidMessage"/>; later, fate unknown, for <see cref="SidecarError.Timeout"/> and
    /// <see cref="SidecarError.ConnectionLost"/> — with <see cref="SidecarException.Reversal"/> set when the link queued
    /// its reversal (<see cref="IsoClientOptions.Reversals"/>). Cancelling after the write does not un-send it: the
    /// caller sees the cancellation, and the link reverses it as for a timeout.
    /// </summary>
    public Task<IsoMessage> SendAsync(IsoMessage request, TimeSpan? timeout = null, CancellationToken ct = default)
    {
        PendingRequest<IsoMessage> pending;
        try
        {
            if (!Volatile.Read(ref _accepting))
            {
                throw new SidecarException(SidecarError.NotAccepting, $"connection {Name} is draining or closed");
            }

            if (_sendingStopped)
            {
                throw new SidecarException(SidecarError.SendingStopped, $"sending on connection {Name} was stopped by command");
            }

            pending = _requests.Register(_keys.KeyOf(request), request, timeout ?? _options.RequestTimeout);
        }
        catch (SidecarException)
        {
            _metrics.Request(RequestOutcome.NotSent);
            throw;
        }

        _health.RequestSent();
        if (_current is { } session)
        {
            Write(session, pending);
        }

        if (ct.CanBeCanceled)
        {
            return WithCancellation(pending, ct);
        }

        return pending.Task;
    }

    private async Task<IsoMessage> WithCancellation(PendingRequest<IsoMessage> pending, CancellationToken ct)
    {
        await using var registration = ct.Register(() => _requests.TryFail(pending, new OperationCanceledException(ct))).ConfigureAwait(false);
        return await pending.Task.ConfigureAwait(false);
    }

    private void Write(IsoSession session, PendingRequest<IsoMessage> pending)
    {
        if (pending.TryAssign(session.Id) && !session.TrySend(pending.Request))
        {
            LoseRequest(pending, $"session {session.Id} closed before the request was written");
        }
    }

    private void LoseRequest(PendingRequest<IsoMessage> pending, string reason)
    {
        if (_requests.TryFail(pending, new SidecarException(SidecarError.NoLink, reason)))
        {
            _health.RequestLost();
        }
    }

    /// <summary>Writes the requests accepted while no session was up.</summary>
    private void FlushQueued(IsoSession session)
    {
        foreach (var pending in _requests.Queued())
        {
            Write(session, pending);
        }
    }

    /// <summary>Counts how a request that got no response ended; fate-unknown ones being reversed are counted once queued.</summary>
    private void OnRequestFailed(PendingRequest<IsoMessage> pending, Exception error)
    {
        var unknown = pending.WasWritten && error is OperationCanceledException or SidecarException { Outcome: RequestOutcome.FateUnknown };
        if (!unknown)
        {
            _metrics.Request(RequestOutcome.NotSent);
        }
        else if (_reversals?.Covers(pending.Request.Mti.Value) != true)
        {
            _metrics.Request(RequestOutcome.FateUnknown);
        }
    }

    private ValueTask OnMessage(IsoSession session, IsoMessage message)
    {
        var mti = IsoWire.MtiOf(message);
        if (!MatchKey.IsRequest(mti))
        {
            var key = _keys.KeyOf(message);
            if (NetworkManagement.IsNetworkManagement(mti) && _network.TryComplete(key, message))
            {
                return ValueTask.CompletedTask;
            }

            if (_requests.TryComplete(key, message))
            {
                _health.ResponseMatched();
                _metrics.Request(RequestOutcome.Answered);
                return ValueTask.CompletedTask;
            }

            // A 0430 for a reversal in the journal, or a late answer to an original that was reversed: never the application's.
            if (_reversals is { } reversals && (message.Mti.Class == 4 ? reversals.TryAcknowledge(key, message) : reversals.IsLateResponse(key, message)))
            {
                return ValueTask.CompletedTask;
            }

            _health.UnmatchedResponse();
            try
            {
                _inbound.OnUnmatchedResponse(new IsoPeer(session.Id, session.Remote, null), message);
            }
            catch (Exception ex)
            {
                Log.InboundHandlerFailed(_logger, mti, ex);
            }

            return ValueTask.CompletedTask;
        }

        if (NetworkManagement.IsNetworkManagement(mti))
        {
            session.TrySend(NetworkManagement.Answer(_wire, message));
            return ValueTask.CompletedTask;
        }

        InboundRequests.Dispatch(session, new IsoPeer(session.Id, session.Remote, null), message, _inbound, _logger, _lifetime.Token);
        return ValueTask.CompletedTask;
    }
}
