using System.ComponentModel.DataAnnotations;

namespace OrleansControl.Grains.Connections;

/// <summary>How connection grains judge health and detect dead connections. Bound from configuration by the silo.</summary>
public sealed class ConnectionHealthOptions
{
    /// <summary>The sidecars' heartbeat interval; the timer checks at this period.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Missed intervals after which a connection is Failed (timeout = interval × this).</summary>
    [Range(1, 100)]
    public int MissedHeartbeatsBeforeFailed { get; set; } = 3;

    /// <summary>Heartbeat-only changes are persisted and projected at most this often.</summary>
    public TimeSpan HeartbeatPersistInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Period of the persisted reminder that re-activates a grain whose silo died. Must be ≥ ReminderOptions.MinimumReminderPeriod.</summary>
    public TimeSpan BackstopPeriod { get; set; } = TimeSpan.FromSeconds(30);

    [Range(0, 100)]
    public int DegradedBelow { get; set; } = 50;

    [Range(0, 100)]
    public int RecoveredAtOrAbove { get; set; } = 70;

    /// <summary>How many transitions and failover records a connection keeps.</summary>
    [Range(1, 1000)]
    public int HistoryLength { get; set; } = 20;

    /// <summary>Start a failover automatically when a connection fails (timeout or report).</summary>
    public bool AutoFailover { get; set; } = true;

    /// <summary>How long a move waits for the sidecar to sign on at its target before trying the next one.</summary>
    public TimeSpan MoveDeadline { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Targets a failover tries before it gives up (Failed, no target, retried with backoff).</summary>
    [Range(1, 20)]
    public int MaxMoveAttempts { get; set; } = 3;

    /// <summary>First retry of a failover that found no target; doubles (with jitter) up to <see cref="NoTargetRetryMax"/>.</summary>
    public TimeSpan NoTargetRetryInitial { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan NoTargetRetryMax { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How long a connection waits for its pool grain on the failover path (a target, a sign-on) before it takes the
    /// answer from this silo's replica of the pool, provisionally, and reconciles it later. A pool on a silo that died
    /// answers nobody until membership declares that silo dead (seconds); a live pool answers in milliseconds. The
    /// same bound holds for every other grain call a connection makes (stream publishes, the sidecar's outbox, the
    /// server's session report): ConnectionGrain.Deadlines.cs.
    /// </summary>
    public TimeSpan PoolCallDeadline { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How often each silo's replica of a pool copies the pool's servers, health and loads.</summary>
    public TimeSpan PoolReplicaRefresh { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan Timeout => HeartbeatInterval * MissedHeartbeatsBeforeFailed;

    /// <summary>Returns the name of the first invalid setting with the problem, or null.</summary>
    public string? FindProblem()
    {
        if (HeartbeatInterval < TimeSpan.FromSeconds(1))
            return $"{nameof(HeartbeatInterval)} must be at least 1 second (was {HeartbeatInterval})";
        if (MissedHeartbeatsBeforeFailed is < 1 or > 100)
            return $"{nameof(MissedHeartbeatsBeforeFailed)} must be between 1 and 100 (was {MissedHeartbeatsBeforeFailed})";
        if (HeartbeatPersistInterval < TimeSpan.Zero)
            return $"{nameof(HeartbeatPersistInterval)} must not be negative";
        if (BackstopPeriod < TimeSpan.FromSeconds(1))
            return $"{nameof(BackstopPeriod)} must be at least 1 second (was {BackstopPeriod})";
        if (MoveDeadline < TimeSpan.FromMilliseconds(100))
            return $"{nameof(MoveDeadline)} must be at least 100 ms (was {MoveDeadline})";
        if (MaxMoveAttempts is < 1 or > 20)
            return $"{nameof(MaxMoveAttempts)} must be between 1 and 20 (was {MaxMoveAttempts})";
        if (NoTargetRetryInitial < TimeSpan.FromMilliseconds(100) || NoTargetRetryMax < NoTargetRetryInitial)
            return $"{nameof(NoTargetRetryInitial)} must be at least 100 ms and at most {nameof(NoTargetRetryMax)}";
        if (PoolCallDeadline < TimeSpan.FromMilliseconds(50) || PoolCallDeadline > TimeSpan.FromSeconds(30))
            return $"{nameof(PoolCallDeadline)} must be 50 ms..30 s (was {PoolCallDeadline})";
        if (PoolReplicaRefresh < TimeSpan.FromMilliseconds(100) || PoolReplicaRefresh > TimeSpan.FromMinutes(1))
            return $"{nameof(PoolReplicaRefresh)} must be 100 ms..1 min (was {PoolReplicaRefresh})";
        if (RecoveredAtOrAbove < DegradedBelow)
            return $"{nameof(RecoveredAtOrAbove)} must be ≥ {nameof(DegradedBelow)}";
        return null;
    }
}
