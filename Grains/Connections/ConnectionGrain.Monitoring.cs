using OrleansControl.GrainInterfaces.Models;
using OrleansControl.Grains.Telemetry;

namespace OrleansControl.Grains.Connections;

/// <summary>
/// Heartbeats and the heartbeat timeout. Heartbeats only touch memory; the timer (every heartbeat interval while the
/// grain is active) detects timeouts and persists heartbeat-only changes at most every HeartbeatPersistInterval.
/// The backstop reminder re-activates the grain on another silo if its silo dies.
/// </summary>
public sealed partial class ConnectionGrain
{
    private const string BackstopReminder = "heartbeat-backstop";

    private IGrainTimer? _timer;
    private DateTimeOffset _activatedAt;
    private DateTimeOffset _lastPersist;
    private bool _heartbeatDirty;

    /// <summary>A failover that found no target; retried on each tick while this activation lives.</summary>
    private FailoverRequest? _retryFailover;

    public ValueTask<HeartbeatAck> RecordHeartbeat(Heartbeat heartbeat)
    {
        EnsureRegistered();
        metrics.Heartbeat();
        if (!ConnectionTransitions.IsMonitored(S.Status))
            return ValueTask.FromResult(Ack()); // failed, migrating or closed: the sidecar learns it from the ack

        // Receive time, not SentAt: the timeout is judged on this silo's clock.
        S.LastHeartbeat = Now;
        S.LastEchoRttMs = heartbeat.EchoRttMs;
        S.LastErrorCount = heartbeat.ErrorCount;
        S.LastTimeoutCount = heartbeat.TimeoutCount;
        S.HealthScore = HealthScore.Compute(heartbeat.EchoRttMs, heartbeat.ErrorCount, heartbeat.TimeoutCount, 0);
        _heartbeatDirty = true;

        var next = S.Status == ConnectionStatus.Requested ? ConnectionStatus.Active : StatusForScore();
        return next == S.Status
            ? ValueTask.FromResult(Ack())
            : new ValueTask<HeartbeatAck>(TransitionThenAckAsync(next, S.Status == ConnectionStatus.Requested ? "first heartbeat" : "health score"));
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
        ConnectionStatus.Degraded when S.HealthScore >= _options.RecoveredAtOrAbove => ConnectionStatus.Active,
        _ => S.Status,
    };

    private void EnsureTimer()
    {
        if (_timer is not null || S.Status == ConnectionStatus.Closed)
            return;
        _timer = this.RegisterGrainTimer(
            _ => CheckAsync(),
            new GrainTimerCreationOptions(_options.HeartbeatInterval, _options.HeartbeatInterval) { Interleave = false, KeepAlive = false });
    }

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
            if (missed >= _options.MissedHeartbeatsBeforeFailed)
            {
                Log.HeartbeatTimeout(logger, Id, missed, since);
                metrics.TimeToDetect(now - (S.LastHeartbeat ?? S.MonitoredSince));
                var request = new FailoverRequest("heartbeat-timeout", $"timeout:{S.ServerId}:{since.UtcTicks}", S.ServerId);
                await FailAsync(request, "timeout", _options.AutoFailover);
                return;
            }
            if (missed >= 1)
                await ApplyMissedAsync(missed);
            AlignTimerToDeadline(since + _options.HeartbeatInterval * _options.MissedHeartbeatsBeforeFailed - now);
        }
        else if (S.Status == ConnectionStatus.Failed && _retryFailover is { } pending)
        {
            var result = await MoveAsync(pending, "retry");
            if (result.Outcome != FailoverOutcome.NoTarget)
                _retryFailover = null;
        }
        else if (S.Status == ConnectionStatus.Migrating)
        {
            await MoveAsync(new FailoverRequest("resume interrupted failover", $"resume:{S.Version}", null), "resume");
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
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;
}
