using Orleans.Concurrency;
using OrleansControl.GrainInterfaces.Models;

namespace OrleansControl.GrainInterfaces;

/// <summary>
/// The listing of all connections (one grain, key <see cref="DefaultKey"/>), for ListConnections with filters and
/// paging. Connection grains keep it current (on every status change, on activation, and with the throttled heartbeat
/// write); it is soft state rebuilt from them, so a row can lag a connection's health score by a few seconds. For the
/// authoritative state of one connection call <see cref="IConnectionGrain.GetState"/>.
/// </summary>
[Alias("oc.IConnectionIndexGrain")]
public interface IConnectionIndexGrain : IGrainWithStringKey
{
    public const string DefaultKey = "all";

    [Alias("List")]
    Task<ConnectionPage> List(ConnectionQuery query);

    /// <summary>Called by connection grains only.</summary>
    [OneWay, Alias("Upsert")]
    Task Upsert(ConnectionSummary summary);

    /// <summary>
    /// Called by a connection grain that was activated and found no registration in its storage: a row written before
    /// <paramref name="asOf"/> belongs to a registration the store no longer has, and is dropped.
    /// </summary>
    [OneWay, Alias("Forget")]
    Task Forget(string connectionId, DateTimeOffset asOf);
}
