using System.Collections.Immutable;
using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Errors;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.GrainInterfaces.Streams;
using OrleansControl.Grains.Telemetry;

namespace OrleansControl.Grains.Connections;

/// <summary>
/// The failover coordinator, in two phases. Start: target reserved in the pool (never the current server), the
/// connection Migrating, the command persisted in the sidecar's outbox. End: Active when the sidecar reports it signed
/// on at the target (ConnectionGrain.Evidence.cs). A move whose target does not sign on before the deadline, or whose
/// command fails, tries the next target; after MaxMoveAttempts it gives up: Failed, no target, retried with backoff.
/// Idempotent two ways: a request whose key was already handled returns the original record; a request naming a
/// server the connection has already left is stale. Both hold because the grain handles one request at a time.
/// </summary>
public sealed partial class ConnectionGrain
{
    public Task<FailoverResult> RequestFailover(FailoverRequest request)
    {
        EnsureRegistered();
        if (string.IsNullOrWhiteSpace(request.IdempotencyKey))
            throw new InvalidRequestException("idempotency_key", "must not be empty");
        return FailAsync(request, "request", move: true, broken: false);
    }

    public Task<FailoverResult> ReportFailure(FailureReport report)
    {
        EnsureRegistered();
        // A report that does not name its server and arrives right after a move is about the server we just left.
        if (report.ServerId is null && JustMoved())
            return Task.FromResult(Result(FailoverOutcome.Stale, null, "report"));
        var server = report.ServerId ?? S.ServerId;
        var request = new FailoverRequest($"reported: {report.Reason}", $"report:{server}:{S.Version}", server);
        return FailAsync(request, "report", _options.AutoFailover, broken: true);
    }

    public async Task TargetsChanged()
    {
        if (S.Status == ConnectionStatus.Failed && S.WaitingForTarget is { } waiting)
        {
            waiting.Excluded.Clear(); // the pool changed: what failed before may be back
            await RetryWithoutTargetAsync(waiting);
        }
    }

    /// <param name="broken">The link is known broken (a report, a timeout): the connection is Failed whatever follows.
    /// An explicit request on a working link changes nothing when there is no target.</param>
    private async Task<FailoverResult> FailAsync(FailoverRequest request, string trigger, bool move, bool broken)
    {
        var handled = S.Failovers.FindLast(f => f.IdempotencyKey == request.IdempotencyKey);
        if (handled is not null)
            return Result(FailoverOutcome.Duplicate, handled, trigger);
        if (request.FailedServerId is not null && request.FailedServerId != S.ServerId)
            return Result(FailoverOutcome.Stale, null, trigger);
        if (S.Status == ConnectionStatus.Closed)
            throw new IllegalTransitionException(Id, S.Status, ConnectionStatus.Failed, "the connection is closed");
        if (S.Activation is not null)
            // The client died and a standby is connecting to the same server: a server move has nobody to carry it.
            return Result(FailoverOutcome.Stale, null, trigger);
        if (S.Move is not null)
            // One move at a time: the one under way already handles this failure; an explicit request learns about it.
            return Result(request.FailedServerId is null ? FailoverOutcome.Migrating : FailoverOutcome.Stale, CurrentRecord(), trigger);

        if (broken && S.WaitingForTarget is not null)
            return Result(FailoverOutcome.NoTarget, null, trigger); // already known broken and waiting for a target

        // The evidence goes to the pool beside the move, not before it: a pool that cannot answer must not hold it up.
        var evidence = Task.CompletedTask;
        if (broken && (ConnectionTransitions.IsMonitored(S.Status) || S.Status == ConnectionStatus.Unknown))
        {
            // This controller heard it first: the link loss goes on the bus, persisted with the Failed it causes.
            QueueEvent(ControllerStreams.LostNamespace, Id, new ConnectionLost(Id, S.ClientId, S.ServerId, S.ServerAddress, S.SidecarId, S.Region,
                trigger == "report" ? "sidecar-report" : "heartbeat-timeout", request.Reason, S.Version + 1, Now));
            await TransitionAsync(ConnectionStatus.Failed, request.Reason, $"link failed: {request.Reason}");
            if (trigger == "report" && S.ServerId is { } failed)
                evidence = ReportServerFailureAsync(failed, request.Reason);
        }
        if (!move)
        {
            await evidence;
            return Result(FailoverOutcome.NoTarget, null, trigger); // AutoFailover off: left Failed for an operator
        }
        var result = await StartMoveAsync(request, trigger, []);
        await evidence;
        return result;
    }

    private async Task<FailoverResult> StartMoveAsync(FailoverRequest request, string trigger, ImmutableArray<string> excluded)
    {
        var from = S.ServerId;
        var failedAt = S.Status == ConnectionStatus.Failed ? S.Transitions.LastOrDefault(t => t.To == ConnectionStatus.Failed)?.At ?? Now : Now;
        var target = await ReserveTargetAsync(new FailoverTargetRequest(Id, from, request.TargetServerId ?? S.FailoverTarget, excluded),
            urgent: trigger != "retry");
        if (target is null)
        {
            if (S.Status != ConnectionStatus.Failed)
                return Result(FailoverOutcome.NoTarget, null, trigger); // a working link stays where it is, honestly shown
            await WaitForTargetAsync(request, excluded);
            return Result(FailoverOutcome.NoTarget, null, trigger);
        }

        // A retry's move keeps WaitingForTarget: if it is abandoned too, the backoff goes on growing from there.
        var now = Now;
        S.Move = new MoveInProgress
        {
            IdempotencyKey = request.IdempotencyKey,
            Reason = request.Reason,
            FromServerId = from,
            TargetServerId = target.ServerId,
            TargetAddress = target.Address,
            CommandId = NewCommandId(),
            Attempt = 1,
            FailedAt = failedAt,
            StartedAt = now,
            Tried = [.. excluded],
            TraceParent = System.Diagnostics.Activity.Current?.Id,
        };
        S.FailoverTarget = target.ServerId;
        var record = new FailoverRecord(request.IdempotencyKey, request.Reason, from, target.ServerId, FailoverOutcome.Migrating,
            failedAt, now, null, 1);
        S.Failovers.Add(record);
        Trim(S.Failovers);
        await TransitionAsync(ConnectionStatus.Migrating, $"failover to {target.ServerId}: {request.Reason}", WaitingDetail());
        QueueMoveEvents(stopSending: true);
        await QueueMoveCommandAsync(); // persists the move's events with its command
        await PublishPendingEventsAsync();
        return Result(FailoverOutcome.Migrating, CurrentRecord(), trigger);
    }

    /// <summary>
    /// Puts the current attempt's command into the sidecar's outbox (persisted there before the move counts as queued)
    /// and starts its deadline. Without a sidecar nothing can carry the move: it waits, visibly, and no deadline runs.
    /// An outbox that does not answer within the deadline (its silo is in its death window) does not hold up the
    /// decision: the move stays persisted as not queued, says so, and the wake-up timer offers the command again every
    /// second (the same command id: the outbox keeps one copy), without sending it twice while the late call is out.
    /// </summary>
    private async Task QueueMoveCommandAsync()
    {
        var move = S.Move!;
        if (S.SidecarId is not { } sidecar)
        {
            S.StatusDetail = $"waiting for a sidecar to carry the move to {move.TargetServerId}: none is known for this connection";
            await PersistAsync(Now);
            await ProjectAsync(Now);
            return;
        }
        var now = Now;
        var deadline = now + _options.MoveDeadline;
        if (_enqueueOut is { } stillOut && stillOut.CommandId == move.CommandId && !stillOut.Call.IsCompleted)
        {
            // Not waited for again (that held the grain 500 ms of every second of the death window): its end wakes
            // this grain (below), and a failure then offers the command again at once, to the re-activated outbox.
            ScheduleWakeup(TimeSpan.FromSeconds(1));
            return;
        }
        if (_enqueueOut is not { } enqueue || enqueue.CommandId != move.CommandId || (enqueue.Call.IsCompleted && !enqueue.Call.IsCompletedSuccessfully))
        {
            enqueue = (move.CommandId, GrainFactory.GetGrain<ISidecarOutboxGrain>(sidecar).Enqueue(new SidecarCommand(
                move.CommandId, SidecarCommandKind.ReconnectElsewhere, Id, move.TargetServerId, move.TargetAddress, deadline, move.Reason,
                TraceParent: move.TraceParent)));
            _enqueueOut = enqueue;
        }
        if (!await FinishedInTimeAsync(enqueue.Call))
        {
            LogEnqueueLate(Id, sidecar, move.CommandId, (long)_options.PoolCallDeadline.TotalMilliseconds);
            WakeWhenDone(enqueue.Call, move.CommandId);
            S.StatusDetail = $"move to {move.TargetServerId} decided; its command is not in sidecar {sidecar}'s outbox yet (no answer in "
                + $"{_options.PoolCallDeadline.TotalMilliseconds:0} ms); offered again every second";
            _heartbeatDirty = true;
            ScheduleWakeup(TimeSpan.FromSeconds(1));
            await ProjectAsync(now);
            return;
        }
        _enqueueOut = null;
        if (!enqueue.Call.IsCompletedSuccessfully)
        {
            Log.QueueFailed(logger, enqueue.Call.Exception!.GetBaseException(), Id, sidecar);
            ScheduleWakeup(TimeSpan.FromSeconds(1));
            return;
        }
        move.CommandQueued = true;
        move.QueuedAt = now;
        move.Deadline = deadline;
        S.StatusDetail = WaitingDetail();
        await PersistAsync(now);
        await ProjectAsync(now);
        ScheduleWakeup();
    }

    /// <summary>
    /// A late Enqueue's end (the outbox answered after all, or its silo was declared dead and the call failed) wakes the
    /// grain at once, on its own scheduler, instead of at the next one-second tick. A call already ended (refused at
    /// once: the silo is still listed, its port closed) is offered again on the tick, not in a loop.
    /// </summary>
    private void WakeWhenDone(Task<long> call, string commandId)
    {
        if (call.IsCompleted)
            return;
        _ = call.ContinueWith(t =>
        {
            _ = t.Exception;
            if (S.Move is { CommandQueued: false } move && move.CommandId == commandId)
            {
                LogEnqueueEnded(Id, commandId, t.IsCompletedSuccessfully ? "answered late" : t.Exception!.GetBaseException().GetType().Name);
                try
                {
                    ScheduleWakeup(TimeSpan.Zero);
                }
                catch (Exception e)
                {
                    LogWakeupNotArmed(Id, e.GetType().Name); // deactivating: the next activation's own timer offers it
                }
            }
        }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Current);
    }

    /// <summary>
    /// The current target did not take the connection. It counts against the server only when the sidecar had the
    /// chance (it answered, or kept heartbeating while the deadline ran): a silent sidecar says nothing about a server.
    /// Then the next target, or, after MaxMoveAttempts, back where the link is (if it still works) or Failed.
    /// </summary>
    private async Task MoveAttemptFailedAsync(string why, bool sidecarTried)
    {
        var move = S.Move!;
        Log.MoveAttemptFailed(logger, Id, move.TargetServerId, move.Attempt, why);
        metrics.MoveAttemptFailed();
        if (sidecarTried)
            await ReportServerFailureAsync(move.TargetServerId, $"connection {Id} did not sign on: {why}");
        move.Tried.Add(move.TargetServerId);

        var target = move.Attempt >= _options.MaxMoveAttempts
            ? null
            : await ReserveTargetAsync(new FailoverTargetRequest(Id, move.FromServerId, null, [.. move.Tried]));
        if (target is null)
        {
            await AbandonMoveAsync(move.Attempt >= _options.MaxMoveAttempts
                ? $"no target signed on in {move.Attempt} attempts (last: {why})"
                : $"no other usable target after {move.TargetServerId} ({why})");
            return;
        }

        move.Attempt++;
        move.TargetServerId = target.ServerId;
        move.TargetAddress = target.Address;
        move.CommandId = NewCommandId();
        move.CommandQueued = false;
        S.FailoverTarget = target.ServerId;
        UpdateRecord(r => r with { ToServerId = target.ServerId, Attempts = move.Attempt, Detail = $"attempt {move.Attempt - 1}: {why}" });
        QueueMoveEvents(stopSending: false); // the server being left was told when the move started
        await RecordChangeAsync($"move: attempt {move.Attempt} to {target.ServerId} ({why})");
        await QueueMoveCommandAsync();
    }

    /// <summary>
    /// No target took the move. If the sidecar says, freshly, that it is still signed on where it was, that is the truth;
    /// an old observation (a silent sidecar's last word) is not evidence of anything now.
    /// </summary>
    private async Task AbandonMoveAsync(string why)
    {
        var move = S.Move!;
        UpdateRecord(r => r with { Outcome = FailoverOutcome.Abandoned, Detail = why, Attempts = move.Attempt });
        S.Move = null;
        if (move.CommandQueued)
            await CancelCommandAsync(move.CommandId);
        metrics.Failover("move", FailoverOutcome.Abandoned);
        var origin = S.ServerAddress;
        var fresh = S.LastHeartbeat is { } heard && Now - heard <= _options.HeartbeatInterval * 2;
        if (fresh && S.LastLink is { } link && link.IsSignedOnAt(origin) && await Pool.ConfirmSignedOn(Id, origin!) is { } back)
        {
            LeaveWaiting();
            S.FailoverTarget = back.FailoverTarget;
            QueueEvent(ControllerStreams.FailoverFailedNamespace, Id, new FailoverFailed(Id, S.ClientId, move.FromServerId, move.TargetServerId,
                move.IdempotencyKey, move.Attempt, why, back.ServerId, Now, S.Version + 1));
            await TransitionAsync(ConnectionStatus.Active, $"move abandoned ({why}); the link is still signed on at {back.ServerId}");
            return;
        }
        await Pool.Release(Id);
        S.FailoverTarget = null;
        QueueEvent(ControllerStreams.FailoverFailedNamespace, Id, new FailoverFailed(Id, S.ClientId, move.FromServerId, move.TargetServerId,
            move.IdempotencyKey, move.Attempt, why, null, Now, S.Version + 1));
        await TransitionAsync(ConnectionStatus.Failed, $"move abandoned: {why}", $"no failover target: {why}");
        await WaitForTargetAsync(new FailoverRequest(move.Reason, $"retry:{move.IdempotencyKey}"), []);
    }

    private async Task WaitForTargetAsync(FailoverRequest request, ImmutableArray<string> excluded)
    {
        var first = S.WaitingForTarget is null;
        var waiting = S.WaitingForTarget ??= new PendingFailover { IdempotencyKey = request.IdempotencyKey, Reason = request.Reason, Since = Now };
        waiting.Excluded = [.. excluded];
        waiting.NextAttemptAt = Now + Backoff(waiting.Attempts);
        ScheduleWakeup();
        if (!first)
            return; // a retry costs one pool call: no write, no log line (a restart only retries sooner)
        S.FailoverTarget = null;
        S.StatusDetail = $"no failover target: no usable server with free capacity in pool {S.ServerPool} other than {S.ServerId ?? "none"}; "
            + "retrying with backoff and when the pool gains a server";
        Log.NoTargetEntered(logger, Id, S.StatusDetail);
        await PersistAsync(Now);
        await ProjectAsync(Now);
    }

    /// <summary>The connection is signed on somewhere again: whatever it waited for is over.</summary>
    private void LeaveWaiting()
    {
        if (S.WaitingForTarget is { } waited)
            Log.NoTargetLeft(logger, Id, waited.Attempts, Now - waited.Since);
        S.WaitingForTarget = null;
    }

    private async Task RetryWithoutTargetAsync(PendingFailover waiting)
    {
        waiting.Attempts++;
        metrics.NoTargetRetry();
        await StartMoveAsync(new FailoverRequest(waiting.Reason, $"{waiting.IdempotencyKey}#{waiting.Attempts}"), "retry", [.. waiting.Excluded]);
    }

    /// <summary>Exponential backoff with ±20 % jitter, capped: 2,000 connections without a target stay quiet.</summary>
    private TimeSpan Backoff(int attempts)
    {
        var initial = _options.NoTargetRetryInitial.TotalMilliseconds;
        var capped = Math.Min(_options.NoTargetRetryMax.TotalMilliseconds, initial * Math.Pow(2, Math.Min(attempts, 30)));
        return TimeSpan.FromMilliseconds(capped * (0.8 + Random.Shared.NextDouble() * 0.4));
    }

    /// <summary>Best effort: a command left behind is superseded by the next move anyway, and its receipt is ignored.</summary>
    private Task CancelCommandAsync(string commandId) =>
        S.SidecarId is { } sidecar ? CancelCommandAsync(sidecar, commandId) : Task.CompletedTask;

    private async Task CancelCommandAsync(string sidecar, string commandId)
    {
        var call = GrainFactory.GetGrain<ISidecarOutboxGrain>(sidecar).Cancel(commandId);
        if (!await FinishedInTimeAsync(call))
            LogCallLate(Id, "Cancel", $"sidecar-outbox/{sidecar}", (long)_options.PoolCallDeadline.TotalMilliseconds);
        else if (call.Exception is { } ex)
            Log.QueueFailed(logger, ex.GetBaseException(), Id, sidecar);
    }

    private string WaitingDetail()
    {
        var move = S.Move!;
        return S.SidecarId is null
            ? $"waiting for a sidecar to carry the move to {move.TargetServerId}: none is known for this connection"
            : $"waiting for sidecar {S.SidecarId} to sign on at {move.TargetServerId} (attempt {move.Attempt} of {_options.MaxMoveAttempts})";
    }

    private IServerPoolGrain Pool => GrainFactory.GetGrain<IServerPoolGrain>(S.ServerPool);

    private static string NewCommandId() => $"move-{Guid.NewGuid():N}";

    private FailoverRecord? CurrentRecord() =>
        S.Move is { } move ? S.Failovers.FindLast(f => f.IdempotencyKey == move.IdempotencyKey) : null;

    private void UpdateRecord(Func<FailoverRecord, FailoverRecord> change)
    {
        if (S.Move is { } move) UpdateRecord(move, change);
    }

    private bool JustMoved()
    {
        var last = S.Failovers.LastOrDefault(f => f.Outcome == FailoverOutcome.Moved);
        return last?.CompletedAt is { } done && Now - done < _options.Timeout;
    }

    /// <summary>
    /// The decision and command on the bus (failover-commands): the move's attempt for watchers and the other region
    /// and, when it starts, the scheme side's cue to stop sending to this client on the server it leaves. The
    /// sidecar's command itself is in its outbox grain.
    /// </summary>
    private void QueueMoveEvents(bool stopSending)
    {
        var move = S.Move!;
        var now = Now;
        QueueEvent(ControllerStreams.FailoverNamespace, S.ClientId, new FailoverCommand(Id, S.ClientId, move.FromServerId, move.TargetServerId,
            move.TargetAddress, move.Reason, move.IdempotencyKey, now));
        if (stopSending && move.FromServerId is { } left)
            QueueEvent(ControllerStreams.StopSendingNamespace, S.ClientId, new ServerStopSending(Id, S.ClientId, left, S.ServerAddress,
                move.TargetServerId, move.Reason, move.IdempotencyKey, now));
    }

    private FailoverResult Result(FailoverOutcome outcome, FailoverRecord? record, string trigger)
    {
        metrics.Failover(trigger, outcome);
        if (outcome is FailoverOutcome.Migrating or FailoverOutcome.Moved)
            Log.Failover(logger, Id, outcome, record?.FromServerId ?? S.ServerId, record?.ToServerId, record?.Reason ?? "", record?.IdempotencyKey ?? "");
        else
            Log.FailoverIgnored(logger, Id, outcome, record?.Reason ?? "", record?.IdempotencyKey ?? "");
        return new FailoverResult(outcome, record, Snapshot());
    }
}
