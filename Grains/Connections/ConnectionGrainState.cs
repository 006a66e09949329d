using OrleansControl.GrainInterfaces.Models;

namespace OrleansControl.Grains.Connections;

/// <summary>What a connection grain persists. Heartbeat fields may lag by up to HeartbeatPersistInterval.</summary>
[GenerateSerializer, Alias("oc.state.Connection")]
public sealed class ConnectionGrainState
{
    [Id(0)] public string ClientId { get; set; } = "";
    [Id(1)] public string ServerPool { get; set; } = "";
    [Id(2)] public string? ServerId { get; set; }
    [Id(3)] public string? ServerAddress { get; set; }
    [Id(4)] public ConnectionStatus Status { get; set; }
    [Id(5)] public DateTimeOffset? LastHeartbeat { get; set; }
    [Id(6)] public int HealthScore { get; set; } = 100;
    [Id(7)] public string? FailoverTarget { get; set; }
    [Id(8)] public long Version { get; set; }
    [Id(9)] public List<ConnectionTransition> Transitions { get; set; } = [];
    [Id(10)] public List<FailoverRecord> Failovers { get; set; } = [];
    [Id(11)] public double LastEchoRttMs { get; set; }
    [Id(12)] public int LastErrorCount { get; set; }
    [Id(13)] public int LastTimeoutCount { get; set; }
    [Id(14)] public DateTimeOffset RegisteredAt { get; set; }
    [Id(15)] public Dictionary<string, string> Metadata { get; set; } = [];
    /// <summary>When the timeout clock (re)started: registration or the end of a failover.</summary>
    [Id(16)] public DateTimeOffset MonitoredSince { get; set; }
    /// <summary>The sidecar that carries the link and receives its commands (null: none known yet).</summary>
    [Id(17)] public string? SidecarId { get; set; }
    /// <summary>The region whose registry owns this entry.</summary>
    [Id(18)] public string? Region { get; set; }
    [Id(19)] public string StatusDetail { get; set; } = "";
    /// <summary>The latest the sidecar said of its link (heartbeat or state report).</summary>
    [Id(20)] public LinkObservation? LastLink { get; set; }
    /// <summary>The move in progress while Migrating; null otherwise.</summary>
    [Id(21)] public MoveInProgress? Move { get; set; }
    /// <summary>A failover that found no target and is retried with backoff (and when the pool gains a server).</summary>
    [Id(22)] public PendingFailover? WaitingForTarget { get; set; }
    /// <summary>The backups last put in the sidecar's outbox ("id@address,…"), so an unchanged list is not sent again.</summary>
    [Id(23)] public string BackupsSent { get; set; } = "";
    /// <summary>Status events left by a version that had only those in its outbox; moved into <see cref="PendingEvents"/> on activation.</summary>
    [Id(24)] public List<GrainInterfaces.Streams.ConnectionStatusChanged> UnpublishedEvents { get; set; } = [];
    /// <summary>
    /// Events persisted with the change they describe and not yet accepted by the stream provider (a broker down, a
    /// full buffer): published in order, retried until accepted. At-least-once; (type, id, version) identifies one.
    /// </summary>
    [Id(25)] public List<PendingEvent> PendingEvents { get; set; } = [];
    /// <summary>
    /// The registration this state belongs to: drawn when an empty grain registers, never changed by a transition
    /// (see <see cref="ConnectionIncarnation"/>). Null in state written before incarnations existed.
    /// </summary>
    [Id(26)] public string? Incarnation { get; set; }
    /// <summary>
    /// The server was taken from this silo's replica of the pool (the pool grain did not answer in the death window):
    /// the pool's reservation is confirmed on a later timer tick (ConnectionGrain.PoolCalls.cs).
    /// </summary>
    [Id(30)] public bool PoolReconcilePending { get; set; }
    /// <summary>Client sidecars registered as standby (DR), in activation order; a former primary joins at the end.</summary>
    [Id(60)] public List<StandbyClient> Standbys { get; set; } = [];
    /// <summary>A DR activation under way: the standby told to connect and sign on; null otherwise.</summary>
    [Id(61)] public ClientActivation? Activation { get; set; }
    /// <summary>Standbys tried since the active client died (an activation that failed is not tried again in that round).</summary>
    [Id(62)] public List<string> ActivationTried { get; set; } = [];
    /// <summary>When the active client was found dead (silent, its server session gone); null while it is not.</summary>
    [Id(63)] public DateTimeOffset? ClientDiedAt { get; set; }
}

/// <summary>An event in the connection's outbox: the stream it goes to and the record.</summary>
[GenerateSerializer, Immutable, Alias("oc.state.PendingEvent")]
public sealed record PendingEvent(
    [property: Id(0)] string Namespace,
    [property: Id(1)] string Key,
    [property: Id(2)] object Data,
    // Also published on the namespace's * stream (the memory provider does not derive it; Kafka does).
    [property: Id(3)] bool AlsoAll);

/// <summary>
/// One failover between "target reserved" and "signed on there". <see cref="Tried"/> are targets that did not sign
/// on before their deadline; the next attempt excludes them.
/// </summary>
[GenerateSerializer, Alias("oc.state.MoveInProgress")]
public sealed class MoveInProgress
{
    [Id(0)] public string IdempotencyKey { get; set; } = "";
    [Id(1)] public string Reason { get; set; } = "";
    [Id(2)] public string? FromServerId { get; set; }
    [Id(3)] public string TargetServerId { get; set; } = "";
    [Id(4)] public string TargetAddress { get; set; } = "";
    /// <summary>The command id of the current attempt: a nonce drawn per attempt, so no controller ever reuses it.</summary>
    [Id(5)] public string CommandId { get; set; } = "";
    [Id(6)] public int Attempt { get; set; }
    [Id(7)] public DateTimeOffset Deadline { get; set; }
    [Id(8)] public DateTimeOffset FailedAt { get; set; }
    [Id(9)] public DateTimeOffset StartedAt { get; set; }
    [Id(10)] public List<string> Tried { get; set; } = [];
    /// <summary>False while the connection has no sidecar to carry the move: no deadline runs then.</summary>
    [Id(11)] public bool CommandQueued { get; set; }
    [Id(12)] public DateTimeOffset QueuedAt { get; set; }
    /// <summary>
    /// The W3C traceparent of the decision that started the move: every attempt's command carries it, also one queued
    /// later from a timer or when a sidecar attaches, so the whole move stays in the trace of the request that caused it.
    /// </summary>
    [Id(310)] public string? TraceParent { get; set; }
}

/// <summary>A failover waiting for a usable target: retried at <see cref="NextAttemptAt"/> with growing backoff.</summary>
[GenerateSerializer, Alias("oc.state.PendingFailover")]
public sealed class PendingFailover
{
    [Id(0)] public string IdempotencyKey { get; set; } = "";
    [Id(1)] public string Reason { get; set; } = "";
    [Id(2)] public DateTimeOffset Since { get; set; }
    [Id(3)] public int Attempts { get; set; }
    [Id(4)] public DateTimeOffset NextAttemptAt { get; set; }
    [Id(5)] public List<string> Excluded { get; set; } = [];
}
