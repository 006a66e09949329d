using Orleans.Concurrency;
using OrleansControl.GrainInterfaces.Models;

namespace OrleansControl.GrainInterfaces;

/// <summary>
/// The sessions one scheme server holds, as its server-side sidecar last reported them (key: <see cref="KeyOf"/>, pool
/// and server id), to this region or, relayed, to the peer region. Soft state: a report every few seconds replaces the last, nothing is persisted; a reactivated grain
/// knows nothing until the next report, and says so (<see cref="SessionVerdict.NoEvidence"/>). Connection grains ask it
/// what a client's silence means (docs/grains.md, "Absence is not failure").
/// </summary>
[Alias("oc.IServerSessionsGrain")]
public interface IServerSessionsGrain : IGrainWithStringKey
{
    public static string KeyOf(string pool, string serverId) => $"{pool}/{serverId}";

    /// <summary>The server's sidecar reports every session it holds now.</summary>
    [Alias("Report")]
    Task Report(ServerSessionReport report);

    /// <summary>
    /// The peer region relays a report its server's sidecar sent there (the scheme region holds the server sidecars,
    /// the bank region the clients): dated now (this silo's clock) minus <paramref name="age"/>, how long it had been
    /// held before it came here, so neither region's clock skew nor a late relay makes it look fresher than it is. One
    /// older than the report held is ignored.
    /// </summary>
    [Alias("RelayedAged")]
    Task Relayed(ServerSessionReport report, TimeSpan age, string fromRegion);

    /// <summary>
    /// Whether the session of the client whose end of the link is <paramref name="clientAddress"/> is still held, by a
    /// report received after <paramref name="silentSince"/> (when the client was last heard) and not older than
    /// <paramref name="freshFor"/>: anything older says nothing about now.
    /// </summary>
    [ReadOnly, Alias("Sees")]
    Task<SessionEvidence> Sees(string clientAddress, DateTimeOffset silentSince, TimeSpan freshFor);

    [ReadOnly, Alias("GetLastReport")]
    Task<ServerSessionReport?> GetLastReport();
}
