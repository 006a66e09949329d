using Orleans.Concurrency;
using OrleansControl.GrainInterfaces.Models;

namespace OrleansControl.GrainInterfaces;

/// <summary>
/// One connection (key: connection id). Usage: <c>Register</c> once (assigns a server from the pool; status Requested),
/// then the sidecar sends <c>RecordHeartbeat</c> every interval, each saying what its link does; the first that says
/// "signed on" makes it Active. The registry follows what the sidecar observes: Active means signed on at
/// <c>ServerId</c>. The grain decides health, the heartbeat timeout and failover itself; callers only report and ask.
/// A failover has two phases: Migrating (target reserved, command persisted in the sidecar's outbox) and Active once
/// the sidecar signs on at the target; a deadline moves on to the next target. Every status change is persisted
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

    /// <summary>
    /// Hot path: updates last heartbeat and health score in memory (persisted at most every few seconds). A heartbeat
    /// whose link disagrees with the registry corrects it (another server: the registry follows, with an event).
    /// </summary>
    [Alias("RecordHeartbeat")]
    ValueTask<HeartbeatAck> RecordHeartbeat(Heartbeat heartbeat);

    /// <summary>Sidecar's verdict: Degraded moves Active → Degraded, Healthy moves Degraded → Active.</summary>
    [Alias("ReportHealth")]
    Task<ConnectionSnapshot> ReportHealth(HealthReport report);

    /// <summary>
    /// A sidecar's state report: what its link does now. Signed on at the move's target completes a move; signed on
    /// elsewhere corrects the registry; Failed is a failure report (see <see cref="ReportFailure"/>).
    /// </summary>
    [Alias("ReportLink")]
    Task<ConnectionSnapshot> ReportLink(LinkObservation link);

    /// <summary>Sidecar says the connection is broken: Failed, then failover (conditional on the reported server).</summary>
    [Alias("ReportFailure")]
    Task<FailoverResult> ReportFailure(FailureReport report);

    /// <summary>
    /// Explicit failover (operator, the sidecar's control endpoint, the peer region). Idempotent per
    /// <see cref="FailoverRequest.IdempotencyKey"/>. Answers Migrating once the move is under way, NoTarget (nothing
    /// changed) when no other usable server exists.
    /// </summary>
    [Alias("RequestFailover")]
    Task<FailoverResult> RequestFailover(FailoverRequest request);

    /// <summary>The sidecar's receipt of one of this connection's commands, handed on by its outbox.</summary>
    [Alias("CompleteCommand")]
    Task CompleteCommand(CommandReceipt receipt);

    /// <summary>The pool gained a usable server: a connection waiting for a failover target tries again now.</summary>
    [OneWay, Alias("TargetsChanged")]
    Task TargetsChanged();

    /// <summary>The pool's servers changed (added, removed, health, ejection): the sidecar gets fresh backups.</summary>
    [OneWay, Alias("PoolChanged")]
    Task PoolChanged();

    /// <summary>
    /// Operator override with optimistic concurrency: applies a legal transition if the version still matches.
    /// Does not start a failover (use RequestFailover); Migrating can only be entered by a failover.
    /// </summary>
    [Alias("TransitionTo")]
    Task<ConnectionSnapshot> TransitionTo(ConnectionStatus target, long expectedVersion, string reason);

    [Alias("GetState")]
    Task<ConnectionSnapshot> GetState();
}
