using System.Globalization;
using StackExchange.Redis;

namespace OrleansControl.Grains.Projection;

/// <summary>Writes <c>connections:{connection_id}</c> hashes with StackExchange.Redis (schema in docs/redis-registry.md).</summary>
public sealed class RedisConnectionProjection(IConnectionMultiplexer redis) : IConnectionProjection
{
    public const string KeyPrefix = "connections:";

    public async ValueTask WriteAsync(ConnectionProjectionRecord record, CancellationToken cancellationToken = default)
    {
        var db = redis.GetDatabase();
        await db.HashSetAsync(KeyPrefix + record.ConnectionId, ToFields(record)).ConfigureAwait(false);
    }

    public static HashEntry[] ToFields(ConnectionProjectionRecord r) =>
    [
        new("client_id", r.ClientId),
        new("server_id", r.ServerId ?? ""),
        new("status", r.Status.ToString().ToLowerInvariant()),
        new("last_heartbeat", r.LastHeartbeat?.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture) ?? ""),
        new("health_score", r.HealthScore),
        new("failover_target", r.FailoverTarget ?? ""),
        new("version", r.Version),
        new("server_pool", r.ServerPool),
    ];
}
