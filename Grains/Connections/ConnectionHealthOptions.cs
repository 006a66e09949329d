using System.ComponentModel.DataAnnotations;

namespace OrleansControl.Grains.Connections;

/// <summary>How connection grains judge health and detect dead connections. Bound from configuration by the silo.</summary>
public sealed class ConnectionHealthOptions : IValidatableObject
{
    public const string Section = "Controller:Health";

    /// <summary>The sidecars' heartbeat interval; the timer checks at this period.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "10675199.02:48:05.4775807")]
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Missed intervals after which a connection is Failed (timeout = interval × this).</summary>
    [Range(1, 100)]
    public int MissedHeartbeatsBeforeFailed { get; set; } = 3;

    /// <summary>Heartbeat-only changes are persisted and projected at most this often.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "10675199.02:48:05.4775807")]
    public TimeSpan HeartbeatPersistInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Period of the persisted reminder that re-activates a grain whose silo died. Must be ≥ ReminderOptions.MinimumReminderPeriod.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "10675199.02:48:05.4775807")]
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
    [Range(typeof(TimeSpan), "00:00:00.1", "10675199.02:48:05.4775807")]
    public TimeSpan MoveDeadline { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Targets a failover tries before it gives up (Failed, no target, retried with backoff).</summary>
    [Range(1, 20)]
    public int MaxMoveAttempts { get; set; } = 3;

    /// <summary>First retry of a failover that found no target; doubles (with jitter) up to <see cref="NoTargetRetryMax"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.1", "10675199.02:48:05.4775807")]
    public TimeSpan NoTargetRetryInitial { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan NoTargetRetryMax { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How long a connection waits for its pool grain on the failover path (a target, a sign-on) before it takes the
    /// answer from this silo's replica of the pool, provisionally, and reconciles it later. A pool on a silo that died
    /// answers nobody until membership declares that silo dead (seconds); a live pool answers in milliseconds. The
    /// same bound holds for every other grain call a connection makes (stream publishes, the sidecar's outbox, the
    /// server's session report): ConnectionGrain.Deadlines.cs.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.05", "00:00:30")]
    public TimeSpan PoolCallDeadline { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How often each silo's replica of a pool copies the pool's servers, health and loads.</summary>
    [Range(typeof(TimeSpan), "00:00:00.1", "00:01:00")]
    public TimeSpan PoolReplicaRefresh { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan Timeout => HeartbeatInterval * MissedHeartbeatsBeforeFailed;

    /// <summary>The rules between settings (each setting's own range is on it: the silo's generated validator checks both).</summary>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (NoTargetRetryMax < NoTargetRetryInitial)
            yield return new ValidationResult($"{Section}:{nameof(NoTargetRetryMax)} must be at least {Section}:{nameof(NoTargetRetryInitial)}");
        if (RecoveredAtOrAbove < DegradedBelow)
            yield return new ValidationResult($"{Section}:{nameof(RecoveredAtOrAbove)} must be ≥ {Section}:{nameof(DegradedBelow)}");
    }
}
