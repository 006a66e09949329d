using System.Collections.Immutable;

namespace OrleansControl.GrainInterfaces.Models;

[GenerateSerializer, Alias("oc.ServerHealth")]
public enum ServerHealth
{
    Healthy = 0,
    /// <summary>Keeps its connections but gets no new ones (draining, overloaded).</summary>
    Degraded = 1,
    /// <summary>Gets no connections and is never a failover target.</summary>
    Unhealthy = 2,
}

/// <summary>A server instance as an operator or the scheme-side sidecar declares it.</summary>
[GenerateSerializer, Immutable, Alias("oc.ServerDefinition")]
public sealed record ServerDefinition(
    [property: Id(0)] string ServerId,
    [property: Id(1)] string Address,
    [property: Id(2)] string Zone,
    [property: Id(3)] int Capacity,
    [property: Id(4)] ServerHealth Health = ServerHealth.Healthy);

/// <summary>
/// A server instance with its current load (connections assigned by this pool). <see cref="Suspect"/>: ejected on
/// evidence (connections reported it failed, a move to it timed out) until <see cref="EjectedUntil"/> or until a
/// connection signs on there; a suspect server gets no new connections and is never a failover target.
/// </summary>
[GenerateSerializer, Immutable, Alias("oc.ServerInstance")]
public sealed record ServerInstance(
    [property: Id(0)] string ServerId,
    [property: Id(1)] string Address,
    [property: Id(2)] string Zone,
    [property: Id(3)] int Capacity,
    [property: Id(4)] int Load,
    [property: Id(5)] ServerHealth Health,
    [property: Id(6)] bool Suspect = false,
    [property: Id(7)] DateTimeOffset? EjectedUntil = null,
    [property: Id(8)] string HealthDetail = "");

/// <summary>
/// A connection asks for a failover target: any usable server but <see cref="CurrentServerId"/> and
/// <see cref="Excluded"/> (targets that already failed this move), <see cref="PreferredTarget"/> first if usable.
/// </summary>
[GenerateSerializer, Immutable, Alias("oc.FailoverTargetRequest")]
public sealed record FailoverTargetRequest(
    [property: Id(0)] string ConnectionId,
    [property: Id(1)] string? CurrentServerId,
    [property: Id(2)] string? PreferredTarget = null,
    [property: Id(3)] ImmutableArray<string> Excluded = default);

/// <summary>
/// Evidence against a server: a connection's link to it failed (refused, reset, echo failure) or a move to it did
/// not sign on before its deadline. Not a heartbeat timeout: a silent sidecar says nothing about the server.
/// </summary>
[GenerateSerializer, Immutable, Alias("oc.ServerFailureReport")]
public sealed record ServerFailureReport(
    [property: Id(0)] string ServerId,
    [property: Id(1)] string ConnectionId,
    [property: Id(2)] string Reason);

/// <summary>A request for a slot. Assigning the same connection id twice returns the first assignment.</summary>
[GenerateSerializer, Immutable, Alias("oc.AssignmentRequest")]
public sealed record AssignmentRequest(
    [property: Id(0)] string ConnectionId,
    [property: Id(1)] string ClientId,
    [property: Id(2)] string? PreferredServer = null);

/// <summary>
/// A reserved slot on <see cref="ServerId"/>. <see cref="FailoverTarget"/> is a suggestion (not reserved): the server
/// a failover would pick right now, in another zone when one exists. <see cref="Provisional"/>: chosen from this
/// silo's replica of the pool because the pool grain did not answer in time (its silo dying); nothing is reserved in
/// the pool until the connection reconciles it (docs/grains.md, "The death window"). <see cref="OverCapacity"/>: the
/// pool took the connection on this server beyond its capacity because the link is there (a reconciled provisional
/// choice, or the sidecar's own move): the pool logs it and counts it, never silently.
/// </summary>
[GenerateSerializer, Immutable, Alias("oc.ServerAssignment")]
public sealed record ServerAssignment(
    [property: Id(0)] string PoolId,
    [property: Id(1)] string ServerId,
    [property: Id(2)] string Address,
    [property: Id(3)] string Zone,
    [property: Id(4)] string? FailoverTarget,
    [property: Id(5)] bool Provisional = false,
    [property: Id(6)] bool OverCapacity = false);

[GenerateSerializer, Immutable, Alias("oc.ServerPoolSnapshot")]
public sealed record ServerPoolSnapshot(
    [property: Id(0)] string PoolId,
    [property: Id(1)] ImmutableArray<ServerInstance> Servers,
    [property: Id(2)] int TotalCapacity,
    [property: Id(3)] int TotalLoad);

/// <summary>
/// What the registry says a connection holds in a pool: a slot on <see cref="ServerId"/>, or none (null). The pool's
/// reservations are reconciled against these (<see cref="IServerPoolGrain.ReconcileAssignments"/>), so a load is what
/// the connections hold, not a count that replays and restarts can make drift.
/// </summary>
[GenerateSerializer, Immutable, Alias("oc.AssignmentFact")]
public sealed record AssignmentFact(
    [property: Id(0)] string ConnectionId,
    [property: Id(1)] string? ServerId)
{
    /// <summary>
    /// The slot a registry entry holds, by the rule the owning region's pool follows: none when closed; the reserved
    /// target while migrating (a move reserves it at once); otherwise the server the connection is assigned to.
    /// </summary>
    public static AssignmentFact Of(string connectionId, ConnectionStatus status, string? serverId, string? failoverTarget) =>
        new(connectionId, status switch
        {
            ConnectionStatus.Closed => null,
            ConnectionStatus.Migrating when !string.IsNullOrEmpty(failoverTarget) => failoverTarget,
            _ => string.IsNullOrEmpty(serverId) ? null : serverId,
        });
}
