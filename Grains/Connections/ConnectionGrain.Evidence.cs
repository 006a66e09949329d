using OrleansControl.GrainInterfaces.Models;
using OrleansControl.GrainInterfaces.Streams;
using OrleansControl.Grains.Telemetry;

namespace OrleansControl.Grains.Connections;

/// <summary>
/// Where the registry learns the truth: what the sidecar observes of its link (heartbeats, state reports, command
/// receipts). The rules, in one place:
/// <list type="bullet">
/// <item>Active is entered only on evidence that the sidecar is signed on: Requested → Active, Migrating → Active at
/// the target (the move is complete), Failed → Active (the link came back by itself).</item>
/// <item>Signed on elsewhere than the registry says: the registry follows the link (the pool's reservation too), with an
/// event and a warning. During a move the old server does not count: the link is still leaving it.</item>
/// <item>Active while the sidecar says it is not signed on: Degraded (a Failed report follows from the sidecar); a
/// heartbeat that says Failed is a failure report too, in case the sidecar's one report per outage was lost.</item>
/// </list>
/// </summary>
public sealed partial class ConnectionGrain
{
    public async Task<ConnectionSnapshot> ReportLink(LinkObservation link)
    {
        EnsureRegistered();
        if (S.Status == ConnectionStatus.Closed)
            return Snapshot();
        if (FromAnotherSidecar(link))
        {
            if (S.Activation?.SidecarId == link.ObservedBy)
                await ActivationEvidenceAsync(link);
            return Snapshot();
        }
        S.LastLink = Remembered(link);
        if (link.State == ObservedLinkState.Failed)
        {
            // About the server the registry names: on this ordered stream the registry names a server only after the
            // sidecar said it signed on there, so the report cannot be a late one about the server a move just left.
            if (S.Move is null)
                await ReportFailure(new FailureReport(link.Detail.Length == 0 ? "sidecar reported the link failed" : link.Detail, S.ServerId));
            return Snapshot();
        }
        var from = S.ServerId;
        if (NeedsToFollow(link))
            await FollowAsync(link);
        if (link is { State: ObservedLinkState.SignedOn, MovedFrom: { } left } && from != S.ServerId)
            await RecordSidecarMoveAsync(from, left);
        return Snapshot();
    }

    /// <summary>The sidecar moved on its own (the controller could not answer in time): kept in the history as a failover.</summary>
    private async Task RecordSidecarMoveAsync(string? from, string leftAddress)
    {
        var now = Now;
        var record = new FailoverRecord($"sidecar:{Guid.NewGuid():N}", $"the sidecar moved on its own from {leftAddress}", from, S.ServerId,
            FailoverOutcome.Moved, now, now, now, 1, "sidecar-initiated");
        S.Failovers.Add(record);
        Trim(S.Failovers);
        QueueEvent(ControllerStreams.EstablishedNamespace, Id, new ConnectionEstablished(Id, S.ClientId, from, S.ServerId, S.ServerAddress ?? leftAddress,
            record.IdempotencyKey, 1, now, now, S.Version, MovedBy: "sidecar"));
        await PersistAsync(now);
        await PublishPendingEventsAsync();
        Result(FailoverOutcome.Moved, record, "sidecar");
    }

    public async Task CompleteCommand(CommandReceipt receipt)
    {
        EnsureRegistered();
        if (S.Activation is { } activation && activation.CommandId == receipt.CommandId)
        {
            await ActivationReceiptAsync(receipt);
            return;
        }
        if (S.Move is not { } move || move.CommandId != receipt.CommandId)
            return; // a superseded attempt's receipt: the current attempt decides
        var at = receipt.SignedOnAt;
        if (at is not null && string.Equals(at, move.TargetAddress, StringComparison.OrdinalIgnoreCase))
            await CompleteMoveAsync(move.TargetAddress, "the sidecar signed on at the target");
        else if (at is not null && !string.Equals(at, S.ServerAddress, StringComparison.OrdinalIgnoreCase))
            await CompleteMoveAsync(at, $"the sidecar signed on at {at} instead of the target");
        else
            await MoveAttemptFailedAsync(receipt.Success ? $"the sidecar is not signed on there ({receipt.Detail})" : $"sidecar: {receipt.Detail}", sidecarTried: true);
    }

    /// <summary>True when a heartbeat's link disagrees with the registry in a way that needs a (persisted) change.</summary>
    private bool NeedsToFollow(LinkObservation link)
    {
        if (link.State == ObservedLinkState.Failed)
            // The sidecar reports FAILED once per outage; if that report was lost, its heartbeats still say so.
            return (ConnectionTransitions.IsMonitored(S.Status) || S.Status == ConnectionStatus.Unknown) && S.Move is null;
        if (link.State != ObservedLinkState.SignedOn)
            return link.State is ObservedLinkState.Connecting or ObservedLinkState.Disconnected or ObservedLinkState.Connected
                && S.Status == ConnectionStatus.Active;
        return S.Status switch
        {
            ConnectionStatus.Requested or ConnectionStatus.Failed or ConnectionStatus.Unknown => true,
            ConnectionStatus.Migrating => !link.IsSignedOnAt(S.ServerAddress), // at the target or elsewhere; not the old server
            ConnectionStatus.Active or ConnectionStatus.Degraded => !link.IsSignedOnAt(S.ServerAddress),
            _ => false,
        };
    }

    private async Task FollowAsync(LinkObservation link)
    {
        if (link.State == ObservedLinkState.Failed)
        {
            await ReportFailure(new FailureReport(link.Detail.Length == 0 ? "the sidecar's heartbeat says the link failed" : link.Detail, S.ServerId));
            return;
        }
        if (link.State != ObservedLinkState.SignedOn)
        {
            await TransitionAsync(ConnectionStatus.Degraded, $"the sidecar reports the link {link.State.ToString().ToLowerInvariant()}",
                $"link not signed on ({link.State.ToString().ToLowerInvariant()}{(link.Detail.Length > 0 ? ": " + link.Detail : "")})");
            return;
        }
        var address = link.ServerAddress!;
        switch (S.Status)
        {
            case ConnectionStatus.Migrating:
                await CompleteMoveAsync(address, S.Move is { } m && link.IsSignedOnAt(m.TargetAddress)
                    ? "the sidecar signed on at the target"
                    : $"the sidecar signed on at {address} instead of the target");
                break;
            case ConnectionStatus.Requested or ConnectionStatus.Failed or ConnectionStatus.Unknown:
                await SignedOnAsync(address, S.Status switch
                {
                    ConnectionStatus.Requested => "first heartbeat: signed on",
                    ConnectionStatus.Unknown => "the sidecar is back: signed on",
                    _ => "the sidecar signed on again",
                });
                break;
            default:
                await CorrectServerAsync(address);
                break;
        }
    }

    /// <summary>The end of a move: signed on at <paramref name="address"/> (the target, or wherever the sidecar went).</summary>
    private async Task CompleteMoveAsync(string address, string why)
    {
        var move = S.Move!;
        var server = await ConfirmAsync(address);
        if (move.CommandQueued)
            await CancelCommandAsync(move.CommandId); // done: if the sidecar never took the command, it must not run later
        var from = S.ServerId;
        Place(server, address);
        LeaveWaiting();
        S.Move = null;
        S.HealthScore = 100;
        S.LastErrorCount = 0;
        S.LastTimeoutCount = 0;
        var now = Now;
        UpdateRecord(move, r => r with { ToServerId = S.ServerId, Outcome = FailoverOutcome.Moved, CompletedAt = now, Attempts = move.Attempt });
        QueueEvent(ControllerStreams.EstablishedNamespace, Id, new ConnectionEstablished(Id, S.ClientId, from, S.ServerId, S.ServerAddress!,
            move.IdempotencyKey, move.Attempt, move.FailedAt, now, S.Version + 1));
        await TransitionAsync(ConnectionStatus.Active, $"failover complete: {why} ({from} -> {S.ServerId})", UnknownServerDetail(server, address));
        metrics.FailoverDuration(now - move.FailedAt);
        Result(FailoverOutcome.Moved, S.Failovers.FindLast(f => f.IdempotencyKey == move.IdempotencyKey), "signed-on");
    }

    private async Task SignedOnAsync(string address, string why)
    {
        ForgetClientDeath(); // the active client itself is back (no activation runs: its word would not count then)
        var server = await ConfirmAsync(address);
        LeaveWaiting();
        var said = S.ServerId;
        Place(server, address);
        if (said != S.ServerId)
        {
            Log.RegistryCorrected(logger, Id, said, S.ServerId ?? address);
            metrics.RegistryCorrected();
        }
        await TransitionAsync(ConnectionStatus.Active, $"{why} at {S.ServerId ?? address}", UnknownServerDetail(server, address));
    }

    private async Task CorrectServerAsync(string address)
    {
        var server = await ConfirmAsync(address);
        var said = S.ServerId;
        Place(server, address);
        S.StatusDetail = UnknownServerDetail(server, address);
        Log.RegistryCorrected(logger, Id, said, S.ServerId ?? address);
        metrics.RegistryCorrected();
        await RecordChangeAsync($"registry corrected: the sidecar is signed on at {S.ServerId ?? address}, not {said}");
        // Active somewhere else without a transition (the sidecar moved on its own): its backups were ranked for the
        // server it left, which they leave out, and name the one it is on now.
        await SendBackupsAsync();
    }

    /// <summary>A report that does not name the client's end of the link (an older sidecar's state report) keeps the last word for it.</summary>
    private LinkObservation Remembered(LinkObservation link) =>
        link.LocalAddress is null && S.LastLink is { LocalAddress: { } local } last && link.IsSignedOnAt(last.ServerAddress)
            ? link with { LocalAddress = local }
            : link;

    private void Place(ServerAssignment? server, string address)
    {
        S.ServerId = server?.ServerId;
        S.ServerAddress = server?.Address ?? address;
        S.FailoverTarget = server?.FailoverTarget;
    }

    private string UnknownServerDetail(ServerAssignment? server, string address) =>
        server is null ? $"signed on at {address}, which is not a server of pool {S.ServerPool}" : "";

    private void UpdateRecord(MoveInProgress move, Func<FailoverRecord, FailoverRecord> change)
    {
        var i = S.Failovers.FindLastIndex(f => f.IdempotencyKey == move.IdempotencyKey);
        if (i >= 0) S.Failovers[i] = change(S.Failovers[i]);
    }
}
