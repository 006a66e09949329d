using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansControl.Contract.V1;
using OrleansControl.Gateway.Hosting;
using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;

namespace OrleansControl.Gateway.Regions;

/// <summary>
/// Bank side: the scheme region owns the server pools. A registration asks the peer's AssignServer for a server and
/// mirrors that server into the local pool, so the local registration lands on it. While the peer is unreachable the
/// local mirror decides (the bank keeps serving its sidecars) and the assignment is queued for the peer. A peer that
/// does not answer costs a registration one <see cref="PeerRegionOptions.AssignDeadline"/> (about a second), and
/// nothing while the link is known to be down.
/// </summary>
internal sealed partial class PeerAssignments(
    PeerLink link,
    PeerOutbox outbox,
    IClusterClient cluster,
    IOptions<GatewayOptions> options,
    ILogger<PeerAssignments> logger)
{
    public bool Enabled => link.Configured && options.Value.Peer.OwnsServerPools;

    /// <summary>The other region, when one is configured.</summary>
    public string? PeerRegion => link.Configured ? link.PeerRegion : null;

    /// <summary>The server to prefer locally: the peer's choice, or null (the caller's preference) when the peer is down.</summary>
    public async Task<string?> AssignAsync(string pool, string connectionId, string clientId, string? preferred, CancellationToken cancellationToken)
    {
        if (link.IsDown)
        {
            // The sync service probes the link and says when it is back; until then nobody waits for a deadline.
            LogPeerDown(connectionId, "link down");
            return null;
        }
        var request = new AssignServerRequest { ServerPool = pool, ConnectionId = connectionId, ClientId = clientId, PreferredServer = preferred ?? "" };
        try
        {
            var response = await link.CallAsync("AssignServer",
                o => link.Pools!.AssignServerAsync(request, o).ResponseAsync, PeerCallKind.Quick, cancellationToken);
            await MirrorPoolAsync(pool, response.Server, cancellationToken);
            return response.Server.ServerId;
        }
        catch (PeerUnavailableException e)
        {
            LogPeerDown(connectionId, e.Message);
            return null;
        }
    }

    /// <summary>
    /// Copies the peer's servers (address, zone, capacity, health) into the local pool, so local registrations and
    /// failovers choose among the scheme's real servers even while the link is down.
    /// </summary>
    private async Task MirrorPoolAsync(string pool, Contract.V1.ServerInstance assigned, CancellationToken cancellationToken)
    {
        var local = cluster.GetGrain<IServerPoolGrain>(pool);
        IEnumerable<Contract.V1.ServerInstance> servers = [assigned];
        try
        {
            var listed = await link.CallAsync("ListServers",
                o => link.Pools!.ListServersAsync(new ListServersRequest { ServerPool = pool }, o).ResponseAsync, PeerCallKind.Quick, cancellationToken);
            servers = listed.Servers;
        }
        catch (PeerUnavailableException)
        {
            // The assignment itself is what matters; the rest of the mirror is refreshed on the next registration.
        }
        foreach (var s in servers)
        {
            await local.AddOrUpdateServer(new ServerDefinition(s.ServerId, s.Address, s.Zone, Math.Max(1, s.Capacity),
                s.Healthy ? GrainInterfaces.Models.ServerHealth.Healthy : GrainInterfaces.Models.ServerHealth.Unhealthy));
        }
    }

    /// <summary>What a registration assigned from the mirror says about itself until the peer has confirmed it.</summary>
    public string ProvisionalDetail(string pool) =>
        $"provisional: assigned from this region's mirror of pool {pool} while region {link.PeerRegion} is unreachable; " +
        $"{link.PeerRegion} confirms it when the link is back";

    /// <summary>After a local-only registration: tell the peer which server the connection took, once the link is back.</summary>
    public Task QueueForPeerAsync(string pool, string connectionId, string clientId, string? serverId) =>
        outbox.QueueAsync(new AssignServerRequest { ServerPool = pool, ConnectionId = connectionId, ClientId = clientId, PreferredServer = serverId ?? "" });

    [LoggerMessage(Level = LogLevel.Warning, Message = "Peer region unreachable; connection {ConnectionId} assigned from the local mirror ({Why})")]
    private partial void LogPeerDown(string connectionId, string why);
}
