using OrleansControl.GrainInterfaces.Models;

namespace OrleansControl.Grains.Projection;

/// <summary>
/// The registry projection non-.NET tools read (docs/redis-registry.md). Connection grains write it on every status
/// change and at most every HeartbeatPersistInterval for heartbeat-only changes. It is a projection, not the
/// source of truth: a failed write is logged, never fails the grain call.
/// </summary>
public interface IConnectionProjection
{
    ValueTask WriteAsync(ConnectionProjectionRecord record, CancellationToken cancellationToken = default);
}

/// <summary>The fields of the hash <c>connections:{connection_id}</c>.</summary>
public sealed record ConnectionProjectionRecord(
    string ConnectionId,
    string ClientId,
    string? ServerId,
    ConnectionStatus Status,
    DateTimeOffset? LastHeartbeat,
    int HealthScore,
    string? FailoverTarget,
    long Version,
    string ServerPool,
    string? ServerAddress = null,
    string? SidecarId = null,
    string? Region = null,
    string StatusDetail = "",
    DateTimeOffset? ProjectedAt = null);
