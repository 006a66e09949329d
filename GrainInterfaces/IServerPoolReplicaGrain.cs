using OrleansControl.GrainInterfaces.Models;

namespace OrleansControl.GrainInterfaces;

/// <summary>
/// A read replica of one pool (key: pool id) on every silo: a stateless worker, so each silo that calls it has its own
/// activation, refreshed from <see cref="IServerPoolGrain.GetSnapshot"/> about once a second. Connection grains use it
/// only when the pool grain does not answer within <c>Controller:Health:PoolCallDeadline</c> (the pool's silo is dying
/// and membership has not declared it dead yet): then a failover target, or the server a link signed on at, is taken
/// from the replica, marked <see cref="ServerAssignment.Provisional"/>, and reconciled with the pool grain afterwards.
/// </summary>
[Alias("oc.IServerPoolReplicaGrain")]
public interface IServerPoolReplicaGrain : IGrainWithStringKey
{
    /// <summary>
    /// What <see cref="IServerPoolGrain.ReserveFailoverTarget"/> would pick, by the replica's view (servers, health,
    /// ejections, loads plus this replica's own provisional picks since its last refresh). Nothing is reserved in the
    /// pool. Null when the replica knows no usable target, or has never seen the pool.
    /// </summary>
    [Alias("PickFailoverTarget")]
    Task<ServerAssignment?> PickFailoverTarget(FailoverTargetRequest request);

    /// <summary>The pool's server at <paramref name="address"/> by the replica's view (provisional), or null.</summary>
    [Alias("FindServer")]
    Task<ServerAssignment?> FindServer(string address);

    /// <summary>Activates the replica on the calling silo (so it is warm before a fault); returns when it holds a snapshot or gave up.</summary>
    [Alias("Warm")]
    Task Warm();
}
