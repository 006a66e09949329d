using OrleansControl.GrainInterfaces.Models;

namespace OrleansControl.GrainInterfaces;

/// <summary>
/// One connection (key: connection id). Usage: <c>Register</c> once (assigns a server from the pool; status Requested),
/// then the sidecar sends <c>RecordHeartbeat</c> every interval (the first one makes it Active). The grain decides
/// health, the heartbeat timeout and failover itself; callers only report and ask. Every status change is persisted
/// before the call returns and is published on <see cref="Streams.ControllerStreams.StatusNamespace"/>.
/// Errors: <see cref="Errors.ConnectionNotFoundException"/> for any call but Register on an unregistered id,
/// <see cref="Errors.IllegalTransitionException"/>, <see cref="Errors.VersionConflictException"/>,
/// <see cref="Errors.PoolCapacityExceededException"/> (Register).
/// </summary>
[Alias("oc.IConnectionGrain")]
public interface IConnectionGrain : IGrainWithStringKey
{
    /// <summary>Registers the connection and reserves a slot. Idempotent for the same client id.</summary>
    [Alias("Register")]
    Task<ConnectionSnapshot> Register(ConnectionRegistration registration);

    /// <summary>Hot path: updates last heartbeat and health score in memory (persisted at most every few seconds).</summary>
    [Alias("RecordHeartbeat")]
    ValueTask<HeartbeatAck> RecordHeartbeat(Heartbeat heartbeat);

    /// <summary>Sidecar's verdict: Degraded moves Active → Degraded, Healthy moves Degraded → Active.</summary>
    [Alias("ReportHealth")]
    Task<ConnectionSnapshot> ReportHealth(HealthReport report);

    /// <summary>Sidecar says the connection is broken: Failed, then failover (conditional on the reported server).</summary>
    [Alias("ReportFailure")]
    Task<FailoverResult> ReportFailure(FailureReport report);

    /// <summary>Explicit failover (operator or gateway). Idempotent per <see cref="FailoverRequest.IdempotencyKey"/>.</summary>
    [Alias("RequestFailover")]
    Task<FailoverResult> RequestFailover(FailoverRequest request);

    /// <summary>
    /// Operator override with optimistic concurrency: applies a legal transition if the version still matches.
    /// Does not start a failover (use RequestFailover); Migrating can only be entered by a failover.
    /// </summary>
    [Alias("TransitionTo")]
    Task<ConnectionSnapshot> TransitionTo(ConnectionStatus target, long expectedVersion, string reason);

    [Alias("GetState")]
    Task<ConnectionSnapshot> GetState();
}
