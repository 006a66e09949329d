using System.Collections.Concurrent;

namespace OrleansControl.Grains.Projection;

/// <summary>The default when there is no Redis: keeps the latest record per connection in this process.</summary>
public sealed class InMemoryConnectionProjection : IConnectionProjection
{
    private readonly ConcurrentDictionary<string, ConnectionProjectionRecord> _records = new();

    public IReadOnlyDictionary<string, ConnectionProjectionRecord> Records => _records;

    public ValueTask WriteAsync(ConnectionProjectionRecord record, CancellationToken cancellationToken = default)
    {
        _records[record.ConnectionId] = record;
        return ValueTask.CompletedTask;
    }
}
