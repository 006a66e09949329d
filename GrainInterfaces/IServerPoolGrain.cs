using Orleans.Concurrency;
using OrleansControl.GrainInterfaces.Models;

namespace OrleansControl.GrainInterfaces;

/// <summary>
/// One pool of scheme-side server instances (key: pool id). Operators/sidecars declare servers with
/// <c>AddOrUpdateServer</c>; connection grains call <c>Assign</c>, <c>Release</c> and <c>PickFailoverTarget</c>.
/// The grain is deliberately not reentrant: capacity checks and the persisted reservation happen in one turn, so
/// concurrent Assign calls can never exceed a server's capacity.
/// </summary>
[Alias("oc.IServerPoolGrain")]
public interface IServerPoolGrain : IGrainWithStringKey
{
    /// <summary>Adds a server or updates its address, zone, capacity and health (load is the pool's own count).</summary>
    [Alias("AddOrUpdateServer")]
    Task<ServerInstance> AddOrUpdateServer(ServerDefinition server);

    /// <summary>
    /// Sets a server's health; Degraded/Unhealthy servers get no new connections. Marking a server Unhealthy (or
    /// removing it) asks each of its connections to fail over (reason "server … unhealthy"/"removed").
    /// </summary>
    [Alias("SetServerHealth")]
    Task<ServerInstance> SetServerHealth(string serverId, ServerHealth health);

    /// <summary>Removes a server and asks its connections to fail over.</summary>
    [Alias("RemoveServer")]
    Task RemoveServer(string serverId);

    /// <summary>
    /// Reserves a slot: the preferred server if healthy with capacity, else the least-loaded healthy server, ties
    /// broken towards the zone with fewest connections. Throws <see cref="Errors.PoolCapacityExceededException"/>.
    /// </summary>
    [Alias("Assign")]
    Task<ServerAssignment> Assign(AssignmentRequest request);

    /// <summary>Frees the connection's slot (idempotent).</summary>
    [Alias("Release")]
    Task Release(string connectionId);

    /// <summary>
    /// Moves the connection's reservation off <paramref name="currentServerId"/> to a healthy server with capacity,
    /// preferring another zone (or <paramref name="preferredTarget"/> if given and usable). Null when none exists.
    /// </summary>
    [Alias("PickFailoverTarget")]
    Task<ServerAssignment?> PickFailoverTarget(string connectionId, string? currentServerId, string? preferredTarget = null);

    [ReadOnly, Alias("GetSnapshot")]
    Task<ServerPoolSnapshot> GetSnapshot();
}
