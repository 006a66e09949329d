using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;

namespace OrleansControl.Grains.Connections;

/// <summary>
/// What a client's silence means is decided by the server side: the scheme's server-side sidecar reports the sessions
/// its server holds (<see cref="IServerSessionsGrain"/>), by the client's end of the link. On a heartbeat timeout of a
/// connection that was signed on, and again every heartbeat interval while it is Unknown:
/// <list type="bullet">
/// <item>a report received since the silence still lists the session: a control-path problem. Unknown, not moved (the
/// link is there; a move needs the silent sidecar to carry it).</item>
/// <item>a report received since the silence no longer lists it: the client died. Its DR standby is activated
/// (ConnectionGrain.Standby.cs); without one the connection is Failed, saying so. No server is blamed or moved away
/// from: the server was fine.</item>
/// <item>no such report (no server sidecar, or it is silent too): the server side says nothing, and the rules without
/// it apply (Unknown while the client sidecar is detached, a failover otherwise).</item>
/// </list>
/// </summary>
public sealed partial class ConnectionGrain
{
    /// <summary>Returns true when the server side decided (the connection is Unknown, activating a standby, or Failed).</summary>
    private async Task<bool> JudgeSilenceAsync()
    {
        if (S.Status is not (ConnectionStatus.Active or ConnectionStatus.Degraded or ConnectionStatus.Unknown) || S.Activation is not null)
            return false;
        var evidence = await ServerSideEvidenceAsync();
        switch (evidence.Verdict)
        {
            case SessionVerdict.Seen:
                if (S.Status != ConnectionStatus.Unknown)
                {
                    await TransitionAsync(ConnectionStatus.Unknown, "heartbeat-timeout while the server still holds the session",
                        $"client sidecar {S.SidecarId} silent since {S.LastHeartbeat:HH:mm:ss}, but server {S.ServerId} still holds its session "
                        + $"({evidence.Detail}): a control-path problem; not moved");
                    metrics.ClientSilence("unknown");
                    ScheduleWakeup();
                }
                return true;
            case SessionVerdict.Gone:
                await ClientDiedAsync($"client sidecar {S.SidecarId} silent since {S.LastHeartbeat:HH:mm:ss} and server {S.ServerId} "
                    + $"no longer holds its session ({evidence.Detail})");
                return true;
            default:
                return false;
        }
    }

    private async Task<SessionEvidence> ServerSideEvidenceAsync()
    {
        if (S.ServerId is not { } server || S.LastLink is not { State: ObservedLinkState.SignedOn, LocalAddress: { } client })
            return new SessionEvidence(SessionVerdict.NoEvidence, null, "the client's end of the link is not known");
        // One interval of margin: a report written before the client's last heartbeat (and its last reconnect) says
        // nothing about the session that heartbeat described.
        var silentSince = (S.LastHeartbeat ?? S.MonitoredSince) + _options.HeartbeatInterval;
        try
        {
            // Bounded (ConnectionGrain.Deadlines.cs): a report on a silo in its death window says nothing in time.
            var (inTime, evidence) = await AnswerInTimeAsync(GrainFactory.GetGrain<IServerSessionsGrain>(IServerSessionsGrain.KeyOf(S.ServerPool, server))
                .Sees(client, silentSince, _options.Timeout));
            return inTime ? evidence! : new SessionEvidence(SessionVerdict.NoEvidence, null,
                $"the server's session report did not answer within {_options.PoolCallDeadline.TotalMilliseconds:0} ms");
        }
        catch (Exception)
        {
            return new SessionEvidence(SessionVerdict.NoEvidence, null, "the server's session report could not be read");
        }
    }

    /// <summary>While Unknown, the server side is asked again every interval: a session that goes away later is a death too.</summary>
    private DateTimeOffset? SilenceRecheckDue() =>
        S.Status == ConnectionStatus.Unknown && S.Activation is null && S.LastLink is { LocalAddress: not null }
            ? Now + _options.HeartbeatInterval
            : null;
}
