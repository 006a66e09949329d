using System.Collections.Immutable;
using Orleans.Concurrency;
using OrleansControl.GrainInterfaces.Models;

namespace OrleansControl.GrainInterfaces;

/// <summary>
/// One pool of scheme-side server instances (key: pool id). Operators/sidecars declare servers with
/// <c>AddOrUpdateServer</c>; connection grains call <c>Assign</c>, <c>Release</c>, <c>ReserveFailoverTarget</c> and
/// report what they see of the servers (<c>ReportServerFailure</c>, <c>ConfirmSignedOn</c>), from which the pool
/// ejects suspect servers (outlier detection, docs/grains.md). The grain is deliberately not reentrant: capacity checks
/// and the persisted reservation happen in one turn, so concurrent Assign calls can never exceed a server's capacity.
/// </summary>
[Alias("oc.IServerPoolGrain")]
public interface IServerPoolGrain : IGrainWithStringKey
{
    /// <summary>Adds a server or updates its address, zone, capacity and health (load is the pool's own count).</summary>
    [Alias("AddOrUpdateServer")]
    Task<ServerInstance> AddOrUpdateServer(ServerDefinition server);

    /// <summary>
    /// A server's own sidecar declares it (on every attach): a new server joins healthy; a known one takes the address,
    /// zone and capacity and keeps its declared health. Nothing is written when nothing changed, so a re-attach is cheap.
    /// </summary>
    [Alias("RegisterServer")]
    Task<ServerInstance> RegisterServer(ServerDefinition server, string sidecarId);

    /// <summary>
    /// Sets a server's health; Degraded/Unhealthy servers get no new connections. Marking a server Unhealthy (or
    /// removing it) asks each of its connections to fail over (reason "server … unhealthy"/"removed"). Healthy also
    /// ends an ejection.
    /// </summary>
    [Alias("SetServerHealth")]
    Task<ServerInstance> SetServerHealth(string serverId, ServerHealth health);

    /// <summary>Removes a server and asks its connections to fail over.</summary>
    [Alias("RemoveServer")]
    Task RemoveServer(string serverId);

    /// <summary>
    /// Reserves a slot: the preferred server if usable with capacity, else the least-loaded usable server, ties
    /// broken towards the zone with fewest connections. Throws <see cref="Errors.PoolCapacityExceededException"/>.
    /// </summary>
    [Alias("Assign")]
    Task<ServerAssignment> Assign(AssignmentRequest request);

    /// <summary>Frees the connection's slot (idempotent).</summary>
    [Alias("Release")]
    Task Release(string connectionId);

    /// <summary>
    /// Moves the connection's reservation to a usable server with capacity that is neither the current one nor
    /// excluded, preferring another zone (or the preferred target). Null when none exists: the pool then remembers the
    /// connection and calls its <see cref="IConnectionGrain.TargetsChanged"/> when a server becomes usable.
    /// </summary>
    [Alias("ReserveFailoverTarget")]
    Task<ServerAssignment?> ReserveFailoverTarget(FailoverTargetRequest request);

    /// <summary>Evidence that a server failed a connection; enough of it within the window ejects the server.</summary>
    [Alias("ReportServerFailure")]
    Task ReportServerFailure(ServerFailureReport report);

    /// <summary>
    /// Evidence that the connection is signed on at <paramref name="serverAddress"/>: the server is healthy (an
    /// ejection ends) and the connection's reservation follows it there. Returns that server, or null when the address
    /// is not one of the pool's servers.
    /// </summary>
    [Alias("ConfirmSignedOn")]
    Task<ServerAssignment?> ConfirmSignedOn(string connectionId, string serverAddress);

    /// <summary>
    /// Up to <paramref name="count"/> failover targets for a connection on <paramref name="currentServerId"/>, best
    /// first (the order <see cref="ReserveFailoverTarget"/> would try them in), nothing reserved.
    /// </summary>
    [ReadOnly, Alias("RankBackups")]
    Task<ImmutableArray<BackupServer>> RankBackups(string? currentServerId, int count);

    /// <summary>
    /// Makes the reservations of these connections what the registry says they hold (the other region's connections,
    /// from its entries on every sync): a slot moves to the server named, is taken for a server not (yet) in the pool
    /// (a restarted pool whose servers are still re-registering), and is freed when none is held. Returns how many
    /// reservations changed. A replayed assignment, a move made in the other region's mirror and a restart cannot make
    /// a load drift for longer than one sync.
    /// </summary>
    [Alias("ReconcileAssignments")]
    Task<int> ReconcileAssignments(ImmutableArray<AssignmentFact> facts);

    [ReadOnly, Alias("GetSnapshot")]
    Task<ServerPoolSnapshot> GetSnapshot();
}
