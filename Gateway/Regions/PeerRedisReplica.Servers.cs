using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using OrleansControl.Contract.V1;
using OrleansControl.Gateway.Services;
using StackExchange.Redis;

namespace OrleansControl.Gateway.Regions;

/// <summary>
/// The peer's pools as its replica has them: the set <c>pools:{pool}</c> names the servers, each a hash
/// <c>servers:{pool}:{server}</c> written by the owner's pool grain (docs/redis-registry.md). Read with SMEMBERS and
/// HGETALL only, on the same read-only connection as the connections.
/// </summary>
internal sealed partial class PeerRedisReplica
{
    private const string PoolKeyPrefix = "pools:";
    private const string ServerKeyPrefix = "servers:";

    /// <summary>The servers of <paramref name="pool"/> the peer region wrote, each with its <c>replica_read</c> (empty when unreadable).</summary>
    public async Task<IReadOnlyList<ServerInstance>> ListServersAsync(string pool, CancellationToken cancellationToken)
    {
        if (_redis is null) return [];
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.RedisReplicaTimeout);
            var (redis, server, lag) = await OpenAsync(timeout.Token);
            var db = redis.GetDatabase();
            var ids = await db.SetMembersAsync(PoolKeyPrefix + pool, CommandFlags.DemandReplica).WaitAsync(timeout.Token);
            var hashes = await Task.WhenAll(ids.Take(MaxEntries).Select(id => db.HashGetAllAsync($"{ServerKeyPrefix}{pool}:{id}", CommandFlags.DemandReplica)))
                .WaitAsync(timeout.Token);
            var readAt = _time.GetUtcNow();
            var servers = new List<ServerInstance>(hashes.Length);
            foreach (var fields in hashes)
            {
                if (ToServer(fields, out var region, out var written) is not { } s || region == _localRegion || region.Length == 0) continue;
                s.ReplicaRead = new ReplicaRead
                {
                    Replica = server.EndPoint.ToString() ?? "",
                    ReadAt = Timestamp.FromDateTimeOffset(readAt),
                    WrittenAt = written,
                    AgeMs = written is { } w ? Math.Max(0, (long)(readAt - w.ToDateTimeOffset()).TotalMilliseconds) : -1,
                    ReplicationLagMs = lag,
                };
                servers.Add(s);
            }
            return servers;
        }
        catch (Exception e) when (e is PeerUnavailableException or RedisException or RedisCommandException or TimeoutException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            LogUnreadable(e, Describe());
            return [];
        }
    }

    /// <summary>A server hash as the contract's server; null when empty or without a health this version knows.</summary>
    internal static ServerInstance? ToServer(HashEntry[] fields, out string region, out Timestamp? written)
    {
        var f = fields.ToDictionary(e => (string)e.Name!, e => (string?)e.Value ?? "", StringComparer.Ordinal);
        region = f.GetValueOrDefault("region", "");
        written = Time(f.GetValueOrDefault("updated_at"));
        if (f.GetValueOrDefault("server_id", "") is not { Length: > 0 } serverId
            || !System.Enum.TryParse<GrainInterfaces.Models.ServerHealth>(f.GetValueOrDefault("health"), ignoreCase: true, out var health))
            return null;
        var suspect = f.GetValueOrDefault("suspect") == "true";
        return new ServerInstance
        {
            ServerId = serverId,
            Address = f.GetValueOrDefault("address", ""),
            Zone = f.GetValueOrDefault("zone", ""),
            Capacity = Number(f.GetValueOrDefault("capacity")),
            Load = Number(f.GetValueOrDefault("load")),
            Healthy = health == GrainInterfaces.Models.ServerHealth.Healthy && !suspect,
            Suspect = suspect,
            EjectedUntil = suspect ? Time(f.GetValueOrDefault("ejected_until")) : null,
            HealthDetail = f.GetValueOrDefault("health_reason", ""),
            Health = health.ToProto(),
        };
    }

    private static int Number(string? text) => int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : 0;
}
