using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansControl.Contract.V1;
using OrleansControl.Gateway.Hosting;
using OrleansControl.Gateway.Services;
using StackExchange.Redis;

namespace OrleansControl.Gateway.Regions;

/// <summary>
/// The seed's third channel: a read-only connection to the peer region's Redis <b>replica</b>
/// (<see cref="PeerRegionOptions.RedisReplica"/>), where the peer's <c>connections:{id}</c> projection
/// (docs/redis-registry.md) arrives by Redis replication. While the gRPC link is down, what the peer owns is read from
/// there, newer versions than this region's replicas win, and every entry read carries <c>replica_read</c>: the
/// replica, when it was read, when the owner wrote it, its age and the replica's replication lag. Never written to:
/// only SCAN, HGETALL and INFO are sent to a server that must be a replica (a primary is refused), and the write and
/// admin commands are disabled in the client's command map. A replica that cannot be read in <see cref="PeerRegionOptions.RedisReplicaTimeout"/>
/// leaves the answer as it was, logged. The peer's server health (its <c>servers:{pool}:{server}</c> projection) is read
/// the same way (<c>PeerRedisReplica.Servers.cs</c>).
/// </summary>
internal sealed partial class PeerRedisReplica : IAsyncDisposable
{
    private const string KeyPrefix = "connections:";
    private const int MaxEntries = 10_000;
    private static readonly HashSet<string> WriteCommands = new(StringComparer.OrdinalIgnoreCase)
    {
        "SET", "SETEX", "PSETEX", "SETNX", "MSET", "MSETNX", "APPEND", "DEL", "UNLINK", "EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT",
        "PERSIST", "RENAME", "RENAMENX", "HSET", "HMSET", "HSETNX", "HDEL", "HINCRBY", "HINCRBYFLOAT", "INCR", "INCRBY", "DECR",
        "DECRBY", "LPUSH", "RPUSH", "SADD", "SREM", "ZADD", "ZREM", "XADD", "FLUSHDB", "FLUSHALL", "EVAL", "EVALSHA", "SCRIPT", "PUBLISH",
        // Admin mode is on for INFO alone: everything else it would allow stays off.
        "CONFIG", "SHUTDOWN", "REPLICAOF", "SLAVEOF", "DEBUG", "SAVE", "BGSAVE", "BGREWRITEAOF", "FAILOVER", "MIGRATE", "MOVE",
        "RESTORE", "SWAPDB", "COPY", "KILL",
    };

    private readonly Lazy<Task<ConnectionMultiplexer>>? _redis;
    private readonly PeerRegionOptions _options;
    private readonly string _localRegion;
    private readonly TimeProvider _time;
    private readonly ILogger<PeerRedisReplica> _logger;

    public PeerRedisReplica(IOptions<GatewayOptions> options, TimeProvider time, ILogger<PeerRedisReplica> logger)
    {
        _options = options.Value.Peer;
        _localRegion = options.Value.Region;
        _time = time;
        _logger = logger;
        if (_options.RedisReplica is not { Length: > 0 } connectionString) return;
        _redis = new(() =>
        {
            var redis = ConfigurationOptions.Parse(connectionString);
            redis.AbortOnConnectFail = false; // a replica that is down at start-up is retried, not cached as failed
            redis.CommandMap = CommandMap.Create(WriteCommands, available: false);
            redis.AllowAdmin = true; // INFO replication (the replica's lag) is an admin command to StackExchange.Redis
            redis.ClientName = $"orleanscontrol-{_localRegion}-peer-reader";
            return ConnectionMultiplexer.ConnectAsync(redis);
        });
    }

    public bool Configured => _redis is not null;

    /// <summary>Every entry the peer region owns, as its replica has it (empty when it cannot be read).</summary>
    public async Task<IReadOnlyList<Connection>> ListAsync(CancellationToken cancellationToken)
    {
        if (_redis is null) return [];
        try
        {
            return await ReadAsync(async (redis, server) =>
            {
                var keys = new List<RedisKey>();
                await foreach (var key in server.KeysAsync(pattern: KeyPrefix + "*", pageSize: 500, flags: CommandFlags.DemandReplica).WithCancellation(cancellationToken))
                {
                    keys.Add(key);
                    if (keys.Count >= MaxEntries) break;
                }
                var db = redis.GetDatabase();
                var hashes = await Task.WhenAll(keys.Select(k => db.HashGetAllAsync(k, CommandFlags.DemandReplica)));
                return keys.Zip(hashes, (k, h) => (Id: ((string)k!)[KeyPrefix.Length..], Fields: h)).ToList();
            }, cancellationToken);
        }
        catch (Exception e) when (e is PeerUnavailableException or RedisException or RedisCommandException or TimeoutException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            LogUnreadable(e, Describe());
            return [];
        }
    }

    /// <summary>The peer's entry <paramref name="connectionId"/> from its replica, or null (absent, not the peer's, unreadable).</summary>
    public async Task<Connection?> GetAsync(string connectionId, CancellationToken cancellationToken)
    {
        if (_redis is null) return null;
        try
        {
            var found = await ReadAsync(async (redis, _) =>
                new List<(string, HashEntry[])> { (connectionId, await redis.GetDatabase().HashGetAllAsync(KeyPrefix + connectionId, CommandFlags.DemandReplica)) },
                cancellationToken);
            return found.SingleOrDefault();
        }
        catch (Exception e) when (e is PeerUnavailableException or RedisException or RedisCommandException or TimeoutException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            LogUnreadable(e, Describe());
            return null;
        }
    }

    private async Task<IReadOnlyList<Connection>> ReadAsync(
        Func<ConnectionMultiplexer, IServer, Task<List<(string Id, HashEntry[] Fields)>>> read, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.RedisReplicaTimeout);
        var (redis, server, lag) = await OpenAsync(timeout.Token);
        var rows = await read(redis, server).WaitAsync(timeout.Token);
        var readAt = _time.GetUtcNow();
        var replica = server.EndPoint.ToString() ?? "";
        var entries = new List<Connection>(rows.Count);
        foreach (var (id, fields) in rows)
        {
            if (ToConnection(id, fields) is not { } entry || entry.Region == _localRegion || entry.Region.Length == 0) continue;
            var written = entry.UpdatedAt?.ToDateTimeOffset();
            entry.ReplicaRead = new ReplicaRead
            {
                Replica = replica,
                ReadAt = Timestamp.FromDateTimeOffset(readAt),
                WrittenAt = entry.UpdatedAt,
                AgeMs = written is { } w ? Math.Max(0, (long)(readAt - w).TotalMilliseconds) : -1,
                ReplicationLagMs = lag,
            };
            entries.Add(entry);
        }
        return entries;
    }

    /// <summary>The replica, refused when it is a primary, with its replication lag (ms) as INFO says now.</summary>
    private async Task<(ConnectionMultiplexer Redis, IServer Server, long LagMs)> OpenAsync(CancellationToken timeout)
    {
        var redis = await _redis!.Value.WaitAsync(timeout);
        var server = redis.GetServers().FirstOrDefault(s => s.IsConnected)
            ?? throw new PeerUnavailableException($"peer Redis replica {Describe()} is not connected");
        if (!server.IsReplica)
            throw new PeerUnavailableException($"{server.EndPoint} is a primary, not a replica: Gateway:Peer:RedisReplica must name the peer's replica");
        var lag = ReplicationLag((string?)await redis.GetDatabase().ExecuteAsync("INFO", ["replication"], CommandFlags.DemandReplica).WaitAsync(timeout));
        return (redis, server, lag);
    }

    /// <summary>Seconds since the replica last heard from its primary (or since its link went down), in ms; -1 unknown.</summary>
    private static long ReplicationLag(string? info)
    {
        var fields = (info ?? "").Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(':', 2)).Where(kv => kv.Length == 2)
            .GroupBy(kv => kv[0], StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First()[1], StringComparer.Ordinal);
        var key = fields.GetValueOrDefault("master_link_status") == "up" ? "master_last_io_seconds_ago" : "master_link_down_since_seconds";
        return long.TryParse(fields.GetValueOrDefault(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0
            ? seconds * 1000 : -1;
    }

    /// <summary>A projection hash (docs/redis-registry.md) as a registry entry; null when the hash is empty or unreadable.</summary>
    internal static Connection? ToConnection(string id, HashEntry[] fields)
    {
        if (fields.Length == 0) return null;
        var f = fields.ToDictionary(e => (string)e.Name!, e => (string?)e.Value ?? "", StringComparer.Ordinal);
        if (!System.Enum.TryParse<GrainInterfaces.Models.ConnectionStatus>(f.GetValueOrDefault("status"), ignoreCase: true, out var status)
            || !long.TryParse(f.GetValueOrDefault("version"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var version))
            return null;
        return new Connection
        {
            ConnectionId = id,
            ClientId = f.GetValueOrDefault("client_id", ""),
            ServerPool = f.GetValueOrDefault("server_pool", ""),
            ServerId = f.GetValueOrDefault("server_id", ""),
            ServerAddress = f.GetValueOrDefault("server_address", ""),
            Status = status.ToProto(),
            HealthScore = int.TryParse(f.GetValueOrDefault("health_score"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var score) ? score : 0,
            FailoverTarget = f.GetValueOrDefault("failover_target", ""),
            Version = version,
            LastHeartbeat = Time(f.GetValueOrDefault("last_heartbeat")),
            UpdatedAt = Time(f.GetValueOrDefault("projected_at")),
            SidecarId = f.GetValueOrDefault("sidecar_id", ""),
            Region = f.GetValueOrDefault("region", ""),
            StatusDetail = f.GetValueOrDefault("status_detail", ""),
        };
    }

    private static Timestamp? Time(string? text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? Timestamp.FromDateTimeOffset(at) : null;

    private string Describe() => _options.RedisReplica ?? "";

    public async ValueTask DisposeAsync()
    {
        if (_redis is { IsValueCreated: true } lazy && lazy.Value.IsCompletedSuccessfully)
            await (await lazy.Value).DisposeAsync();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The peer region's Redis replica {Replica} could not be read; answering without it")]
    private partial void LogUnreadable(Exception e, string replica);
}
