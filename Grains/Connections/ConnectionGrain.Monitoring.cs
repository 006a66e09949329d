using Microsoft.Extensions.Logging;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.Grains.Telemetry;

namespace OrleansControl.Grains.Connections;

/// <summary>
/// Heartbeats, the heartbeat timeout and the grain's clocks. Heartbeats only touch memory unless the link they describe
/// disagrees with the registry (ConnectionGrain.Evidence.cs). Two timers: the heartbeat timer (every heartbeat interval
/// while heartbeats are expected) detects timeouts and persists heartbeat-only changes at most every
/// HeartbeatPersistInterval; the wake-up timer (one shot) fires at a move's deadline or a no-target retry. Neither runs
/// when there is nothing to wait for, so idle Failed connections cost nothing. The backstop reminder re-activates the
/// grain on another silo if its silo dies.
/// </summary>
public sealed partial class ConnectionGrain
{
    private const string BackstopReminder = "heartbeat-backstop";

    private IGrainTimer? _timer;
    private IGrainTimer? _wakeup;
    private DateTimeOffset _activatedAt;
    private DateTimeOffset _lastPersist;
    private bool _heartbeatDirty;
    private double _transactionsPerSecond;
    private bool _throughputMeasured;

    public ValueTask<HeartbeatAck> RecordHeartbeat(Heartbeat heartbeat)
    {
        EnsureRegistered();
        metrics.Heartbeat();
        if (S.Status == ConnectionStatus.Closed)
            return ValueTask.FromResult(Ack());
        if (FromAnotherSidecar(heartbeat.Link))
            // A standby's (or a former primary's) word is not evidence for a link it does not carry; the one being
            // activated is the exception: its sign-on ends the activation.
            return S.Activation?.SidecarId == heartbeat.Link!.ObservedBy
                ? new ValueTask<HeartbeatAck>(ActivationThenAckAsync(heartbeat.Link))
                : ValueTask.FromResult(Ack());

        // Receive time, not SentAt: the timeout is judged on this silo's clock.
        MeasureThroughput(heartbeat, S.LastHeartbeat);
        S.LastHeartbeat = Now;
        _heartbeatDirty = true;
        // An older sidecar (or a REST health report) says nothing of its link: signed on where the registry says.
        var link = heartbeat.Link ?? new LinkObservation(ObservedLinkState.SignedOn, S.ServerAddress);
        if (heartbeat.Link is not null)
            S.LastLink = Remembered(heartbeat.Link);
        // Without a link observation only the first heartbeat (or the first after a silence) is evidence of a sign-on
        // where the registry says.
        if ((heartbeat.Link is not null || S.Status is ConnectionStatus.Requested or ConnectionStatus.Unknown) && NeedsToFollow(link))
            return new ValueTask<HeartbeatAck>(FollowThenAckAsync(link, heartbeat));
        if (!ConnectionTransitions.IsMonitored(S.Status))
            return ValueTask.FromResult(Ack()); // failed or migrating: the sidecar learns it from the ack
        return Score(heartbeat);
    }

    /// <summary>Transactions per second between the last two heartbeats of this activation (memory only).</summary>
    private void MeasureThroughput(Heartbeat heartbeat, DateTimeOffset? previous)
    {
        var elapsed = previous is { } at ? (Now - at).TotalSeconds : 0;
        _transactionsPerSecond = elapsed > 0 && _throughputMeasured ? heartbeat.ResponseCount / elapsed : 0;
        _throughputMeasured = true;
    }

    /// <summary>The last measured rate, or 0 once heartbeats have stopped for more than two intervals.</summary>
    private double TransactionsPerSecond() =>
        S.LastHeartbeat is { } at && Now - at <= 2 * _options.HeartbeatInterval + TimeSpan.FromSeconds(1) ? _transactionsPerSecond : 0;

    private ValueTask<HeartbeatAck> Score(Heartbeat heartbeat)
    {
        S.LastEchoRttMs = heartbeat.EchoRttMs;
        S.LastErrorCount = heartbeat.ErrorCount;
        S.LastTimeoutCount = heartbeat.TimeoutCount;
        S.HealthScore = HealthScore.Compute(heartbeat.EchoRttMs, heartbeat.ErrorCount, heartbeat.TimeoutCount, 0);
        var next = StatusForScore();
        return next == S.Status
            ? ValueTask.FromResult(Ack())
            : new ValueTask<HeartbeatAck>(TransitionThenAckAsync(next, "health score"));
    }

    private async Task<HeartbeatAck> FollowThenAckAsync(LinkObservation link, Heartbeat heartbeat)
    {
        await FollowAsync(link);
        if (ConnectionTransitions.IsMonitored(S.Status))
            await Score(heartbeat);
        return Ack();
    }

    private async Task<HeartbeatAck> ActivationThenAckAsync(LinkObservation link)
    {
        await ActivationEvidenceAsync(link);
        return Ack();
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (!IsRegistered || S.Status == ConnectionStatus.Closed)
        {
            var reminder = await this.GetReminder(reminderName);
            if (reminder is not null) await this.UnregisterReminder(reminder);
            return;
        }
        await CheckAsync();
        await WakeUpAsync();
        await UpsertIndexAsync(Now);
    }

    private async Task<HeartbeatAck> TransitionThenAckAsync(ConnectionStatus next, string reason)
    {
        await TransitionAsync(next, $"{reason} ({S.HealthScore})");
        return Ack();
    }

    private HeartbeatAck Ack() => new(S.Status, S.HealthScore, S.Version, S.ServerId);

    private ConnectionStatus StatusForScore() => S.Status switch
    {
        ConnectionStatus.Active when S.HealthScore < _options.DegradedBelow => ConnectionStatus.Degraded,
        ConnectionStatus.Degraded when S.HealthScore >= _options.RecoveredAtOrAbove && S.LastLink is not { State: not ObservedLinkState.SignedOn }
            => ConnectionStatus.Active,
        _ => S.Status,
    };

    private void EnsureTimer()
    {
        if (_timer is not null || !ConnectionTransitions.IsMonitored(S.Status))
            return;
        _timer = this.RegisterGrainTimer(
            _ => CheckAsync(),
            new GrainTimerCreationOptions(_options.HeartbeatInterval, _options.HeartbeatInterval) { Interleave = false, KeepAlive = false });
    }

    private void StopTimer()
    {
        _timer?.Dispose();
        _timer = null;
    }

    /// <summary>Arms the one-shot wake-up for the earliest thing this connection waits for (or disarms it).</summary>
    private void ScheduleWakeup(TimeSpan? soonest = null)
    {
        DateTimeOffset? due = S.Move is { CommandQueued: true } move ? move.Deadline
            : S.Move is { CommandQueued: false } && S.SidecarId is not null ? Now + TimeSpan.FromSeconds(1)
            : S.Activation is { } activation ? activation.Deadline
            : SilenceRecheckDue() ?? S.WaitingForTarget?.NextAttemptAt;
        if (soonest is null && S.PendingEvents.Count > 0) soonest = TimeSpan.FromSeconds(1);
        if (soonest is { } s && (due is null || Now + s < due)) due = Now + s;
        if (due is null)
        {
            _wakeup?.Dispose();
            _wakeup = null;
            return;
        }
        var delay = due.Value - Now + TimeSpan.FromMilliseconds(5);
        if (delay < TimeSpan.FromMilliseconds(5)) delay = TimeSpan.FromMilliseconds(5);
        if (_wakeup is null)
            _wakeup = this.RegisterGrainTimer(_ => WakeUpAsync(),
                new GrainTimerCreationOptions(delay, Timeout.InfiniteTimeSpan) { Interleave = false, KeepAlive = true });
        else
            _wakeup.Change(delay, Timeout.InfiniteTimeSpan);
    }

    /// <summary>A move's deadline passed, a command could not be queued, or a no-target retry is due.</summary>
    private async Task WakeUpAsync()
    {
        await PublishPendingEventsAsync(retry: true);
        var now = Now;
        if (S.Status == ConnectionStatus.Migrating && S.Move is { } move)
        {
            if (!move.CommandQueued && S.SidecarId is not null)
                await QueueMoveCommandAsync();
            else if (move.CommandQueued && now >= move.Deadline)
                await MoveAttemptFailedAsync($"not signed on at {move.TargetServerId} within {_options.MoveDeadline.TotalSeconds:0.#} s",
                    sidecarTried: S.LastHeartbeat > move.QueuedAt);
        }
        else if (S.Activation is { } activation && now >= activation.Deadline)
        {
            await ActivationAttemptFailedAsync($"not signed on within {_options.MoveDeadline.TotalSeconds:0.#} s");
        }
        else if (S.Status == ConnectionStatus.Unknown)
        {
            await JudgeSilenceAsync();
        }
        else if (S.Status == ConnectionStatus.Failed && S.WaitingForTarget is { } waiting && now >= waiting.NextAttemptAt)
        {
            await RetryWithoutTargetAsync(waiting);
        }
        ScheduleWakeup();
    }

    /// <summary>
    /// Absence is not failure: a heartbeat timeout whose sidecar is attached to no gateway, while its link was signed on
    /// when last heard, says nothing about the link or the server. (An attached sidecar that stopped beating for this
    /// connection, or a silent one whose link was not signed on, fails over as before.)
    /// </summary>
    private async Task<bool> SilentWhileDetachedAsync()
    {
        if (S.SidecarId is not { } sidecar || S.Status is not (ConnectionStatus.Active or ConnectionStatus.Degraded)
            || S.LastLink is not { State: ObservedLinkState.SignedOn })
            return false;
        try
        {
            var (inTime, attached) = await AnswerInTimeAsync(GrainFactory.GetGrain<GrainInterfaces.ISidecarOutboxGrain>(sidecar).IsAttached());
            return !inTime || !attached; // late: cannot tell (its outbox is on a dying silo), so do not move on a guess
        }
        catch (Exception)
        {
            return true; // cannot tell: do not move on a guess
        }
    }

    /// <summary>
    /// A registration whose sidecar has not attached since (no heartbeat ever, its outbox has no stream); a late answer
    /// counts as not attached: do not move on a guess.
    /// </summary>
    private async Task<bool> NotAttachedYetAsync()
    {
        if (S.Status != ConnectionStatus.Requested || S.LastHeartbeat is not null || S.LastLink is not null || S.SidecarId is not { } sidecar)
            return false;
        try
        {
            var (inTime, attached) = await AnswerInTimeAsync(GrainFactory.GetGrain<GrainInterfaces.ISidecarOutboxGrain>(sidecar).IsAttached());
            return !inTime || !attached;
        }
        catch (Exception)
        {
            return true;
        }
    }

    [LoggerMessage(EventId = 3262, Level = LogLevel.Information,
        Message = "Connection {ConnectionId}: {Missed} heartbeat intervals since its registration and sidecar {SidecarId} has not attached; left Requested, not moved")]
    private partial void LogNotAttachedYet(string connectionId, string sidecarId, int missed);

    private Task EnsureBackstopAsync() =>
        this.RegisterOrUpdateReminder(BackstopReminder, _options.BackstopPeriod, _options.BackstopPeriod);

    /// <summary>
    /// The heartbeat timeout is decided here. The clock runs from the latest of: the last heartbeat, the moment
    /// monitoring (re)started, and this activation (a grain re-activated after its silo died grants one timeout window,
    /// because heartbeats could not reach it meanwhile).
    /// </summary>
    private async Task CheckAsync()
    {
        var now = Now;
        if (ConnectionTransitions.IsMonitored(S.Status))
        {
            var since = Max(Max(S.LastHeartbeat ?? S.MonitoredSince, S.MonitoredSince), _activatedAt);
            var missed = (int)((now - since) / _options.HeartbeatInterval);
            if (missed >= _options.MissedHeartbeatsBeforeFailed && await NotAttachedYetAsync())
            {
                // Registered, never heard from, its sidecar not attached (a slow start): nothing could carry a move, and
                // nothing says the server is bad. It stays Requested; the clock starts again.
                LogNotAttachedYet(Id, S.SidecarId!, missed);
                S.MonitoredSince = now;
                AlignTimerToDeadline(_options.HeartbeatInterval * _options.MissedHeartbeatsBeforeFailed);
                return;
            }
            if (missed >= _options.MissedHeartbeatsBeforeFailed)
            {
                Log.HeartbeatTimeout(logger, Id, missed, since);
                metrics.TimeToDetect(now - (S.LastHeartbeat ?? S.MonitoredSince));
                if (await JudgeSilenceAsync())
                    return;
                if (await SilentWhileDetachedAsync())
                {
                    await TransitionAsync(ConnectionStatus.Unknown, "heartbeat-timeout while the sidecar is detached",
                        $"sidecar {S.SidecarId} detached and silent since {S.LastHeartbeat:HH:mm:ss}; its link was signed on at {S.ServerId} "
                        + "then; not moved: a move needs a sidecar to carry it, and the silence says nothing about the server");
                    ScheduleWakeup(); // the server side may still say what the silence means
                    return;
                }
                var request = new FailoverRequest("heartbeat-timeout", $"timeout:{S.ServerId}:{since.UtcTicks}", S.ServerId);
                await FailAsync(request, "timeout", _options.AutoFailover, broken: true);
                return;
            }
            if (missed >= 1)
                await ApplyMissedAsync(missed);
            AlignTimerToDeadline(since + _options.HeartbeatInterval * _options.MissedHeartbeatsBeforeFailed - now);
            await ReconcileIfPendingAsync();
        }
        await PersistHeartbeatIfDueAsync(now);
    }

    /// <summary>
    /// The timer ticks once per heartbeat interval, at a phase unrelated to the heartbeats, so a timeout would be seen
    /// up to one interval late. When the deadline falls before the next tick, the next tick is moved onto it.
    /// </summary>
    private void AlignTimerToDeadline(TimeSpan untilDeadline)
    {
        if (_timer is not null && untilDeadline > TimeSpan.Zero && untilDeadline < _options.HeartbeatInterval)
            _timer.Change(untilDeadline + TimeSpan.FromMilliseconds(5), _options.HeartbeatInterval);
    }

    private async Task ApplyMissedAsync(int missed)
    {
        var score = HealthScore.Compute(S.LastEchoRttMs, S.LastErrorCount, S.LastTimeoutCount, missed);
        if (score == S.HealthScore)
            return;
        S.HealthScore = score;
        _heartbeatDirty = true;
        var next = S.Status == ConnectionStatus.Requested ? S.Status : StatusForScore();
        if (next != S.Status)
            await TransitionAsync(next, $"missed {missed} heartbeats ({score})");
    }

    private async Task PersistHeartbeatIfDueAsync(DateTimeOffset now)
    {
        // 0.9: a timer tick that lands a hair early must not postpone the write by a whole period.
        if (!_heartbeatDirty || now - _lastPersist < _options.HeartbeatPersistInterval * 0.9)
            return;
        await PersistAsync(now);
        await ProjectAsync(now);
        if (ConnectionTransitions.IsMonitored(S.Status))
            PublishHealthReport(now);
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;
}
