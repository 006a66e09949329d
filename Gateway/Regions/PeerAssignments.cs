using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansControl.Contract.V1;
using OrleansControl.Gateway.Hosting;
using OrleansControl.Gateway.Services;
using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;

namespace OrleansControl.Gateway.Regions;

/// <summary>
/// Bank side: the scheme region owns the server pools. A registration asks the peer's AssignServer for a server and
/// mirrors that server into the local pool, so the local registration lands on it. While the peer is unreachable the
/// local mirror decides (the bank keeps serving its sidecars) and the assignment is queued for the peer. A peer that
/// does not answer costs a registration one <see cref="PeerRegionOptions.AssignDeadline"/> (about a second), and
/// nothing while the link is known to be down. With the link down and the scheme's Redis replica configured
/// (<see cref="PeerRedisReplica"/>), the mirror takes the servers the scheme wrote there after the mirror's last
/// refresh (<see cref="RefreshMirrorFromReplicaAsync"/>): the third channel carries server health too.
/// </summary>
internal sealed partial class PeerAssignments(
    PeerLink link,
    PeerOutbox outbox,
    PeerRedisReplica replica,
    IClusterClient cluster,
    TimeProvider time,
    IOptions<GatewayOptions> options,
    ILogger<PeerAssignments> logger)
{
    /// <summary>Per mirrored pool: when the peer's ListServers was last asked for it with success (this clock).</summary>
    private readonly ConcurrentDictionary<string, DateTimeOffset> _mirroredAt = new(StringComparer.Ordinal);
    private long _lastReplicaRoundTicks;

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
            await RefreshMirrorFromReplicaAsync(pool, cancellationToken);
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
            await RefreshMirrorFromReplicaAsync(pool, cancellationToken);
            return null;
        }
    }

    /// <summary>
    /// Copies the peer's servers (address, zone, capacity, health) into the local pool, so local registrations and
    /// failovers choose among the scheme's real servers even while the link is down.
    /// </summary>
    private async Task MirrorPoolAsync(string pool, Contract.V1.ServerInstance assigned, CancellationToken cancellationToken)
    {
        IReadOnlyList<Contract.V1.ServerInstance> servers = [assigned];
        try
        {
            var asked = time.GetUtcNow();
            var listed = await link.CallAsync("ListServers",
                o => link.Pools!.ListServersAsync(new ListServersRequest { ServerPool = pool }, o).ResponseAsync, PeerCallKind.Quick, cancellationToken);
            servers = listed.Servers;
            _mirroredAt[pool] = asked;
        }
        catch (PeerUnavailableException)
        {
            // The assignment itself is what matters; the sync refreshes the rest of the mirror.
        }
        await ApplyMirrorAsync(pool, servers);
    }

    /// <summary>
    /// Every full sync round: the mirror takes the scheme's current servers and declared health, so a verdict whose
    /// relay was lost (a scheme restarted on memory, an outbox that never got through) does not stay here for ever.
    /// An empty answer changes nothing: a scheme that forgot its pool says nothing about its servers.
    /// </summary>
    public async Task RefreshMirrorAsync(string pool, CancellationToken cancellationToken)
    {
        var asked = time.GetUtcNow();
        var listed = await link.CallAsync("ListServers",
            o => link.Pools!.ListServersAsync(new ListServersRequest { ServerPool = pool }, o).ResponseAsync, PeerCallKind.Once, cancellationToken);
        await ApplyMirrorAsync(pool, listed.Servers);
        if (listed.Servers.Count > 0) _mirroredAt[pool] = asked;
    }

    /// <summary>
    /// Link down: the scheme's servers of <paramref name="pool"/> from its Redis replica that it wrote after this mirror
    /// last heard from it by gRPC (its <c>updated_at</c> against our clock at that ListServers), applied to the mirror as
    /// a sync would (health first: UNHEALTHY moves our connections off, HEALTHY lets them back) and returned marked
    /// <c>replica_read</c>. Nothing is ever written to the replica. Empty (and the mirror as it was) without a replica,
    /// with the link up, or when the replica cannot be read.
    /// </summary>
    public async Task<IReadOnlyList<Contract.V1.ServerInstance>> RefreshMirrorFromReplicaAsync(string pool, CancellationToken cancellationToken)
    {
        if (!Enabled || !replica.Configured) return [];
        var since = _mirroredAt.GetValueOrDefault(pool, DateTimeOffset.MinValue);
        _mirroredAt.TryAdd(pool, DateTimeOffset.MinValue); // known from now on: the sync service keeps it current while down
        var fresher = (await replica.ListServersAsync(pool, cancellationToken))
            .Where(s => s.ReplicaRead.WrittenAt is { } written && written.ToDateTimeOffset() > since).ToList();
        if (fresher.Count == 0) return [];
        try
        {
            await ApplyMirrorAsync(pool, fresher);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The registration or listing goes on with the mirror as it was; the next round tries again.
            LogReplicaNotApplied(e, pool);
            return [];
        }
        return fresher;
    }

    /// <summary>While the link is down, at most every SyncInterval: every pool mirrored here takes the replica's fresher servers.</summary>
    public async Task RefreshMirrorsFromReplicaAsync(CancellationToken cancellationToken)
    {
        if (!Enabled || !replica.Configured || !link.IsDown) return;
        var now = time.GetUtcNow().UtcTicks;
        if (now - Interlocked.Read(ref _lastReplicaRoundTicks) < options.Value.Peer.SyncInterval.Ticks) return;
        Interlocked.Exchange(ref _lastReplicaRoundTicks, now);
        foreach (var pool in _mirroredAt.Keys) await RefreshMirrorFromReplicaAsync(pool, cancellationToken);
    }

    private async Task ApplyMirrorAsync(string pool, IReadOnlyList<Contract.V1.ServerInstance> servers)
    {
        if (servers.Count == 0) return;
        var local = cluster.GetGrain<IServerPoolGrain>(pool);
        var mirrored = (await local.GetSnapshot()).Servers.ToDictionary(x => x.ServerId, StringComparer.Ordinal);
        foreach (var s in servers)
        {
            var declared = s.DeclaredHealth();
            var capacity = Math.Max(1, s.Capacity);
            if (!mirrored.TryGetValue(s.ServerId, out var mine))
            {
                await local.AddOrUpdateServer(new ServerDefinition(s.ServerId, s.Address, s.Zone, capacity, declared));
                continue;
            }
            if (mine.Address != s.Address || mine.Zone != s.Zone || mine.Capacity != capacity)
            {
                await local.AddOrUpdateServer(new ServerDefinition(s.ServerId, s.Address, s.Zone, capacity, mine.Health));
            }
            if (mine.Health != declared)
            {
                // As a relayed verdict would: UNHEALTHY moves our connections off the server, HEALTHY lets it back.
                LogMirrorCorrected(pool, s.ServerId, mine.Health, declared);
                await local.SetServerHealth(s.ServerId, declared);
            }
        }
    }

    /// <summary>What a registration assigned from the mirror says about itself until the peer has confirmed it.</summary>
    public string ProvisionalDetail(string pool) =>
        $"provisional: assigned from this region's mirror of pool {pool} while region {link.PeerRegion} is unreachable; " +
        $"{link.PeerRegion} confirms it when the link is back";

    /// <summary>After a local-only registration: tell the peer which server the connection took, once the link is back.</summary>
    public Task QueueForPeerAsync(string pool, string connectionId, string clientId, string? serverId) =>
        outbox.QueueAsync(new AssignServerRequest { ServerPool = pool, ConnectionId = connectionId, ClientId = clientId, PreferredServer = serverId ?? "" });

    [LoggerMessage(Level = LogLevel.Information, Message = "Mirror of pool {Pool}: server {ServerId} is {Declared} at the peer, was {Mirrored} here")]
    private partial void LogMirrorCorrected(string pool, string serverId, GrainInterfaces.Models.ServerHealth mirrored, GrainInterfaces.Models.ServerHealth declared);

    [LoggerMessage(EventId = 3041, Level = LogLevel.Warning, Message = "Mirror of pool {Pool}: servers read from the peer's Redis replica not applied")]
    private partial void LogReplicaNotApplied(Exception e, string pool);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Peer region unreachable; connection {ConnectionId} assigned from the local mirror ({Why})")]
    private partial void LogPeerDown(string connectionId, string why);
}
