using OrleansControl.GrainInterfaces.Models;

namespace OrleansControl.Grains.Projection;

/// <summary>
/// The pools' projection for readers outside the cluster, above all the other region through its Redis replica
/// (docs/redis-registry.md). The pool grain writes the servers whose projected fields changed after each state write,
/// and deletes a removed server's entry. A projection, not the source of truth: a failed write is logged and the next
/// change writes the whole pool again; it never fails the grain call.
/// </summary>
public interface IServerPoolProjection
{
    /// <summary>Writes <paramref name="changed"/> and deletes <paramref name="removed"/> (server ids) of one pool.</summary>
    ValueTask WriteAsync(string poolId, IReadOnlyList<ServerProjectionRecord> changed, IReadOnlyList<string> removed, CancellationToken cancellationToken = default);

    /// <summary>Makes the pool's projection exactly <paramref name="servers"/> (a new activation, or after a failed write).</summary>
    ValueTask ReplaceAsync(string poolId, IReadOnlyList<ServerProjectionRecord> servers, CancellationToken cancellationToken = default);
}

/// <summary>The fields of the hash <c>servers:{pool_id}:{server_id}</c>.</summary>
/// <param name="Load">Derived: the connections the pool holds reservations for on the server (both regions').</param>
/// <param name="Health">Declared (an operator's, a sidecar's registration, a relayed verdict), apart from ejection.</param>
/// <param name="Suspect">Ejected on evidence until <paramref name="EjectedUntil"/>.</param>
/// <param name="Incarnation">The pool activation that wrote it (a new one after a restart or a move of the grain).</param>
public sealed record ServerProjectionRecord(
    string PoolId,
    string ServerId,
    string Address,
    string Zone,
    int Capacity,
    int Load,
    ServerHealth Health,
    bool Suspect,
    DateTimeOffset? EjectedUntil,
    string HealthReason,
    string Incarnation,
    DateTimeOffset? ProjectedAt = null);
