using System.Collections.Immutable;

namespace OrleansControl.GrainInterfaces.Models;

/// <summary>
/// An explicit failover request. The same <see cref="IdempotencyKey"/> delivered twice moves the connection once.
/// <see cref="FailedServerId"/>, when given, makes the request conditional: it moves nothing if the connection is no
/// longer on that server (another detector got there first). <see cref="TargetServerId"/> pins the target.
/// </summary>
[GenerateSerializer, Immutable, Alias("oc.FailoverRequest")]
public sealed record FailoverRequest(
    [property: Id(0)] string Reason,
    [property: Id(1)] string IdempotencyKey,
    [property: Id(2)] string? FailedServerId = null,
    [property: Id(3)] string? TargetServerId = null);

[GenerateSerializer, Alias("oc.FailoverOutcome")]
public enum FailoverOutcome
{
    /// <summary>The connection moved: the sidecar signed on at the target and the connection is Active there.</summary>
    Moved = 0,
    /// <summary>A request with the same idempotency key was already handled; <c>Record</c> is the original.</summary>
    Duplicate = 1,
    /// <summary>The connection is no longer on the failed server (already moved); nothing done.</summary>
    Stale = 2,
    /// <summary>
    /// No healthy server with capacity other than the current one. A broken connection stays Failed and the grain
    /// retries with backoff and whenever the pool gains a usable server; an explicit request on a working link
    /// changes nothing.
    /// </summary>
    NoTarget = 3,
    /// <summary>
    /// The move started: target reserved, command persisted in the sidecar's outbox, the connection Migrating. It
    /// becomes Active only when the sidecar reports it signed on there (the record then says Moved).
    /// </summary>
    Migrating = 4,
    /// <summary>Record only: no target took the connection within the allowed attempts.</summary>
    Abandoned = 5,
}

/// <summary>
/// One failover as it happened: why, from where to where, and when each step was reached. <see cref="CompletedAt"/> is
/// when the sidecar signed on at <see cref="ToServerId"/> (null while migrating or when it was abandoned).
/// </summary>
[GenerateSerializer, Immutable, Alias("oc.FailoverRecord")]
public sealed record FailoverRecord(
    [property: Id(0)] string IdempotencyKey,
    [property: Id(1)] string Reason,
    [property: Id(2)] string? FromServerId,
    [property: Id(3)] string? ToServerId,
    [property: Id(4)] FailoverOutcome Outcome,
    [property: Id(5)] DateTimeOffset FailedAt,
    [property: Id(6)] DateTimeOffset? MigratingAt,
    [property: Id(7)] DateTimeOffset? CompletedAt,
    [property: Id(8)] int Attempts = 0,
    [property: Id(9)] string Detail = "");

[GenerateSerializer, Immutable, Alias("oc.FailoverResult")]
public sealed record FailoverResult(
    [property: Id(0)] FailoverOutcome Outcome,
    [property: Id(1)] FailoverRecord? Record,
    [property: Id(2)] ConnectionSnapshot Snapshot);
