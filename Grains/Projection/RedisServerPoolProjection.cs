using System.Globalization;
using StackExchange.Redis;

namespace OrleansControl.Grains.Projection;

/// <summary>
/// Writes each server of a pool as a hash <c>servers:{pool_id}:{server_id}</c> and the pool's server ids as a set
/// <c>pools:{pool_id}</c>, in one MULTI/EXEC per change so a reader never sees a member without its hash for long
/// (schema in docs/redis-registry.md). Same client settings as the connections' projection (the silo's Redis, its TLS);
/// owns its multiplexer, connected on first use.
/// </summary>
public sealed class RedisServerPoolProjection(Func<ConfigurationOptions> configuration, string region) : IServerPoolProjection, IAsyncDisposable
{
    public const string ServerKeyPrefix = "servers:";
    public const string PoolKeyPrefix = "pools:";

    private readonly Lazy<Task<ConnectionMultiplexer>> _redis = new(() =>
    {
        var options = configuration();
        options.AbortOnConnectFail = false; // a Redis down at start-up is retried, not cached as failed
        return ConnectionMultiplexer.ConnectAsync(options);
    });

    public static string ServerKey(string poolId, string serverId) => $"{ServerKeyPrefix}{poolId}:{serverId}";

    public static string PoolKey(string poolId) => PoolKeyPrefix + poolId;

    public async ValueTask WriteAsync(string poolId, IReadOnlyList<ServerProjectionRecord> changed, IReadOnlyList<string> removed, CancellationToken cancellationToken = default)
    {
        if (changed.Count == 0 && removed.Count == 0) return;
        var db = (await _redis.Value.ConfigureAwait(false)).GetDatabase();
        var transaction = db.CreateTransaction();
        var writes = new List<Task>(2 * (changed.Count + removed.Count));
        foreach (var r in changed)
        {
            writes.Add(transaction.HashSetAsync(ServerKey(poolId, r.ServerId), ToFields(r, region)));
            writes.Add(transaction.SetAddAsync(PoolKey(poolId), r.ServerId));
        }
        foreach (var serverId in removed)
        {
            writes.Add(transaction.KeyDeleteAsync(ServerKey(poolId, serverId)));
            writes.Add(transaction.SetRemoveAsync(PoolKey(poolId), serverId));
        }
        await transaction.ExecuteAsync().ConfigureAwait(false);
        await Task.WhenAll(writes).ConfigureAwait(false);
    }

    public async ValueTask ReplaceAsync(string poolId, IReadOnlyList<ServerProjectionRecord> servers, CancellationToken cancellationToken = default)
    {
        var db = (await _redis.Value.ConfigureAwait(false)).GetDatabase();
        var members = await db.SetMembersAsync(PoolKey(poolId)).ConfigureAwait(false);
        var current = servers.Select(s => s.ServerId).ToHashSet(StringComparer.Ordinal);
        var stale = members.Select(m => (string)m!).Where(id => !current.Contains(id)).ToList();
        await WriteAsync(poolId, servers, stale, cancellationToken).ConfigureAwait(false);
    }

    public static HashEntry[] ToFields(ServerProjectionRecord r, string region) =>
    [
        new("pool_id", r.PoolId),
        new("server_id", r.ServerId),
        new("address", r.Address),
        new("zone", r.Zone),
        new("capacity", r.Capacity),
        new("load", r.Load),
        new("health", r.Health.ToString().ToLowerInvariant()),
        new("suspect", r.Suspect ? "true" : "false"),
        new("ejected_until", Time(r.EjectedUntil)),
        new("health_reason", r.HealthReason),
        new("region", region),
        new("incarnation", r.Incarnation),
        new("updated_at", Time(r.ProjectedAt)),
    ];

    private static string Time(DateTimeOffset? at) => at?.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture) ?? "";

    public async ValueTask DisposeAsync()
    {
        if (_redis.IsValueCreated && _redis.Value.IsCompletedSuccessfully)
            await (await _redis.Value.ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
    }
}
