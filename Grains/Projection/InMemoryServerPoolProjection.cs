using System.Collections.Concurrent;

namespace OrleansControl.Grains.Projection;

/// <summary>The default when there is no Redis: keeps the latest record per server in this process (nothing leaves it).</summary>
public sealed class InMemoryServerPoolProjection : IServerPoolProjection
{
    private readonly ConcurrentDictionary<(string PoolId, string ServerId), ServerProjectionRecord> _records = new();

    public IReadOnlyDictionary<(string PoolId, string ServerId), ServerProjectionRecord> Records => _records;

    public ValueTask WriteAsync(string poolId, IReadOnlyList<ServerProjectionRecord> changed, IReadOnlyList<string> removed, CancellationToken cancellationToken = default)
    {
        foreach (var r in changed) _records[(poolId, r.ServerId)] = r;
        foreach (var id in removed) _records.TryRemove((poolId, id), out _);
        return ValueTask.CompletedTask;
    }

    public ValueTask ReplaceAsync(string poolId, IReadOnlyList<ServerProjectionRecord> servers, CancellationToken cancellationToken = default)
    {
        var stale = _records.Keys.Where(k => k.PoolId == poolId && !servers.Any(s => s.ServerId == k.ServerId)).Select(k => k.ServerId).ToList();
        return WriteAsync(poolId, servers, stale, cancellationToken);
    }
}
