using System.Globalization;
using StackExchange.Redis;

namespace OrleansControl.Grains.Projection;

/// <summary>
/// Writes <c>connections:{connection_id}</c> hashes with StackExchange.Redis (schema in docs/redis-registry.md).
/// Owns its multiplexer (connected on first use) so it never collides with another component's Redis client.
/// </summary>
public sealed class RedisConnectionProjection(Func<ConfigurationOptions> configuration) : IConnectionProjection, IAsyncDisposable
{
    public RedisConnectionProjection(string connectionString)
        : this(() => ConfigurationOptions.Parse(connectionString))
    {
    }

    public const string KeyPrefix = "connections:";

    // AbortOnConnectFail off: a Redis that is down at start-up is retried in the background rather than failing
    // (and caching the failure of) the first write.
    private readonly Lazy<Task<ConnectionMultiplexer>> _redis = new(() =>
    {
        var options = configuration();
        options.AbortOnConnectFail = false;
        return ConnectionMultiplexer.ConnectAsync(options);
    });

    public async ValueTask WriteAsync(ConnectionProjectionRecord record, CancellationToken cancellationToken = default)
    {
        var redis = await _redis.Value.ConfigureAwait(false);
        await redis.GetDatabase().HashSetAsync(KeyPrefix + record.ConnectionId, ToFields(record)).ConfigureAwait(false);
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
        new("server_address", r.ServerAddress ?? ""),
        new("sidecar_id", r.SidecarId ?? ""),
        new("region", r.Region ?? ""),
        new("status_detail", r.StatusDetail),
        new("projected_at", r.ProjectedAt?.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture) ?? ""),
    ];

    public async ValueTask DisposeAsync()
    {
        if (_redis.IsValueCreated && _redis.Value.IsCompletedSuccessfully)
            await (await _redis.Value.ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
    }
}
