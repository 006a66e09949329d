using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Errors;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.GrainInterfaces.Streams;
using OrleansControl.Grains.Telemetry;

namespace OrleansControl.Grains.Connections;

/// <summary>
/// The client side fails over too (activate-dr-client), in two phases like a server move:
/// <list type="number">
/// <item><b>Start.</b> The active client died (ConnectionGrain.Silence.cs). The first standby, in registration order,
/// whose stream is attached now and that was not tried in this round, gets a CONNECT command (to the server the link
/// was on) in its outbox, awaited. The connection is Failed, saying which standby it waits for; it stays on the dead
/// client's sidecar.</item>
/// <item><b>End.</b> Active on the standby when that standby says it signed on (its command receipt names the address,
/// or its heartbeat or state report does): only then does the registry name it as the connection's sidecar. The
/// former primary becomes the last standby; an <c>oc.client.dr-activated</c> event is published.</item>
/// <item><b>Deadline.</b> <c>MoveDeadline</c>; on expiry, or a receipt or report that says it failed, the next standby.
/// None left: Failed with the reason; a standby that registers later is activated then.</item>
/// </list>
/// No flapping: a former primary that comes back registers, is told it is a standby (no assignment), and heartbeats of
/// any sidecar other than the active one (or the one being activated) are not evidence. A standby takes over only when
/// the active client dies.
/// <para>Never two links: once a standby has its CONNECT, the activation is not dropped because the client judged dead
/// turns out to be alive (its CONNECT may have run already; withdrawing it cannot close a link). While the activation
/// runs, the old primary's word is not evidence either; when the standby signs on, the old primary becomes a standby
/// and gets a SIGN_OFF (queued in its outbox, delivered whenever it attaches), so its link, if it has one, closes. Only
/// an activation that runs out of standbys gives the link back to it.</para>
/// </summary>
public sealed partial class ConnectionGrain
{
    private async Task<ConnectionSnapshot> RegisterStandbyAsync(ConnectionRegistration registration)
    {
        if (!IsRegistered)
            throw new ConnectionNotFoundException(Id); // a standby of nothing: the primary registers the connection first
        if (registration.SidecarId is not { } sidecar)
            throw new InvalidRequestException("sidecar_id", "a standby client is a sidecar: required with standby");
        if (S.Status == ConnectionStatus.Closed)
            throw new IllegalTransitionException(Id, S.Status, S.Status, "a closed connection takes no standby");
        if (S.ClientId != registration.ClientId)
            throw new ConnectionAlreadyExistsException(Id, S.ClientId);
        if (sidecar == S.SidecarId)
            return Snapshot(); // the active client itself (a DR sidecar that took over keeps its standby setting)

        if (!S.Standbys.Exists(s => s.SidecarId == sidecar))
        {
            S.Standbys.Add(new StandbyClient(sidecar, registration.Region, Now));
            Log.StandbyRegistered(logger, Id, sidecar);
            await RecordChangeAsync($"standby client {sidecar} registered");
        }
        // The active client died with no standby to take over: this one is the way back.
        if (S.ClientDiedAt is not null && S.Activation is null && S.Status == ConnectionStatus.Failed)
            await ActivateNextStandbyAsync($"client sidecar {S.SidecarId} died; standby {sidecar} registered since");
        return Snapshot();
    }

    private async Task ClientDiedAsync(string why)
    {
        S.ClientDiedAt ??= Now;
        S.ActivationTried.Clear();
        Log.ClientDied(logger, Id, why);
        await ActivateNextStandbyAsync(why);
    }

    /// <summary>The first attached, untried standby gets the assignment; none: Failed with the reason.</summary>
    private async Task ActivateNextStandbyAsync(string why)
    {
        foreach (var standby in S.Standbys.Where(s => !S.ActivationTried.Contains(s.SidecarId)).ToList())
        {
            S.ActivationTried.Add(standby.SidecarId);
            if (!await IsAttachedAsync(standby.SidecarId))
            {
                Log.ActivationFailed(logger, Id, standby.SidecarId, "its stream is not attached");
                continue;
            }
            var now = Now;
            var activation = new ClientActivation(standby.SidecarId, $"activate-{Guid.NewGuid():N}", S.SidecarId ?? "", now,
                now + _options.MoveDeadline, why);
            try
            {
                await GrainFactory.GetGrain<ISidecarOutboxGrain>(standby.SidecarId).Enqueue(new SidecarCommand(activation.CommandId,
                    SidecarCommandKind.Connect, Id, S.ServerId, S.ServerAddress, activation.Deadline, $"activate-dr-client: {why}"));
            }
            catch (Exception ex)
            {
                Log.QueueFailed(logger, ex, Id, standby.SidecarId);
                continue;
            }
            S.Activation = activation;
            Log.ActivatingStandby(logger, Id, standby.SidecarId, S.ActivationTried.Count);
            metrics.ClientSilence("dr_activating");
            await FailedBecauseAsync("client died: activating its standby",
                $"{why}; activating standby {standby.SidecarId}: waiting for it to sign on at {S.ServerId ?? S.ServerAddress}");
            ScheduleWakeup();
            return;
        }

        S.Activation = null;
        var none = S.Standbys.Count == 0
            ? "no standby client registered"
            : $"no standby could be activated (tried {string.Join(", ", S.ActivationTried)}: not attached or did not sign on)";
        metrics.ClientSilence("no_standby");
        await FailedBecauseAsync("client died", $"{why}; {none}");
        ScheduleWakeup();
    }

    private async Task FailedBecauseAsync(string reason, string detail)
    {
        if (S.Status != ConnectionStatus.Failed)
        {
            await TransitionAsync(ConnectionStatus.Failed, reason, detail);
            return;
        }
        S.StatusDetail = detail;
        await PersistAsync(Now);
        await ProjectAsync(Now);
    }

    /// <summary>What the standby being activated says of its link (heartbeat or state report).</summary>
    private async Task ActivationEvidenceAsync(LinkObservation link)
    {
        if (link.State == ObservedLinkState.SignedOn && link.ServerAddress is { } at)
            await CompleteActivationAsync(at, link);
        else if (link.State == ObservedLinkState.Failed)
            await ActivationAttemptFailedAsync($"its link failed{(link.Detail.Length > 0 ? ": " + link.Detail : "")}");
    }

    private async Task ActivationReceiptAsync(CommandReceipt receipt)
    {
        if (receipt.SignedOnAt is { } at)
            await CompleteActivationAsync(at, new LinkObservation(ObservedLinkState.SignedOn, at, ObservedBy: S.Activation!.SidecarId));
        else
            await ActivationAttemptFailedAsync($"not signed on: {receipt.Detail}");
    }

    private async Task ActivationAttemptFailedAsync(string why)
    {
        var activation = S.Activation!;
        Log.ActivationFailed(logger, Id, activation.SidecarId, why);
        await CancelCommandAsync(activation.SidecarId, activation.CommandId);
        S.Activation = null;
        await ActivateNextStandbyAsync($"{activation.Reason}; standby {activation.SidecarId}: {why}");
    }

    /// <summary>The end of an activation: the standby signed on, so the registry names it. The former primary is a standby now.</summary>
    private async Task CompleteActivationAsync(string address, LinkObservation link)
    {
        var activation = S.Activation!;
        var server = await Pool.ConfirmSignedOn(Id, address);
        await CancelCommandAsync(activation.SidecarId, activation.CommandId); // done: a resend must not run again
        var from = S.SidecarId;
        S.SidecarId = activation.SidecarId;
        S.Standbys.RemoveAll(s => s.SidecarId == activation.SidecarId);
        if (from is not null && !S.Standbys.Exists(s => s.SidecarId == from))
            S.Standbys.Add(new StandbyClient(from, S.Region, Now, FormerPrimary: true));
        Place(server, address);
        LeaveWaiting();
        S.Activation = null;
        S.ActivationTried.Clear();
        S.ClientDiedAt = null;
        S.LastLink = link;
        S.LastHeartbeat = Now;
        S.HealthScore = 100;
        S.LastErrorCount = 0;
        S.LastTimeoutCount = 0;
        S.BackupsSent = ""; // the new sidecar has none yet
        if (from is not null)
            await StandDownAsync(from, $"standby {S.SidecarId} took over the link ({activation.Reason})");
        var now = Now;
        await TransitionAsync(ConnectionStatus.Active, $"activate-dr-client: standby {S.SidecarId} signed on at {S.ServerId ?? address} ({from} died)",
            UnknownServerDetail(server, address));
        Log.DrActivated(logger, Id, S.SidecarId, S.ServerId, from ?? "none");
        metrics.ClientSilence("dr_activated");
        // Through the connection's event outbox, right after the status change: delayed by a broker outage, never lost.
        QueueEvent(ControllerStreams.ClientFailoverNamespace, Id, new ClientDrActivated(Id, S.ClientId, from ?? "", S.SidecarId, S.ServerId,
            S.ServerAddress, S.Version, activation.Reason, activation.StartedAt, now, S.Region));
        await PersistAsync(Now);
        await PublishPendingEventsAsync();
    }

    /// <summary>
    /// The former primary (now a standby) must not keep a link beside the DR client's: SIGN_OFF, without a deadline
    /// that matters (a day: it runs whenever that sidecar attaches again, and is a no-op on a sidecar with no link).
    /// </summary>
    private async Task StandDownAsync(string sidecarId, string why)
    {
        try
        {
            await GrainFactory.GetGrain<ISidecarOutboxGrain>(sidecarId).Enqueue(new SidecarCommand($"stand-down-{Guid.NewGuid():N}",
                SidecarCommandKind.SignOff, Id, null, null, Now + TimeSpan.FromDays(1), $"standby now: {why}"));
            Log.StoodDown(logger, Id, sidecarId);
        }
        catch (Exception ex)
        {
            // Its heartbeats are not evidence either way; a link it still holds shows in the server's session report.
            Log.QueueFailed(logger, ex, Id, sidecarId);
        }
    }

    /// <summary>
    /// The active client signed on again and no standby holds a CONNECT (none was, or none could be activated): it was
    /// not dead after all. With an activation under way its word is not evidence (<see cref="FromAnotherSidecar"/>), so
    /// this never drops one.
    /// </summary>
    private void ForgetClientDeath()
    {
        S.ClientDiedAt = null;
        S.ActivationTried.Clear();
    }

    /// <summary>
    /// Heartbeats and reports that are not evidence for the link: of a sidecar other than the active one (the standby
    /// being activated is handled by its caller), and of the active one itself while a standby is being activated (it
    /// was judged dead; the standby has the link now or soon, and two links are never allowed).
    /// </summary>
    private bool FromAnotherSidecar(LinkObservation? link) =>
        link?.ObservedBy is { } by && S.SidecarId is not null && (by != S.SidecarId || S.Activation is not null);

    private async Task<bool> IsAttachedAsync(string sidecarId)
    {
        try
        {
            // Bounded (ConnectionGrain.Deadlines.cs): an outbox on a silo in its death window cannot tell either.
            var (inTime, attached) = await AnswerInTimeAsync(GrainFactory.GetGrain<ISidecarOutboxGrain>(sidecarId).IsAttached());
            return inTime && attached;
        }
        catch (Exception)
        {
            return false; // cannot tell: a standby we cannot reach is no standby now
        }
    }
}
