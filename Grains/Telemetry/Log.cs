using Microsoft.Extensions.Logging;
using OrleansControl.GrainInterfaces.Models;

namespace OrleansControl.Grains.Telemetry;

/// <summary>Source-generated log events of the grains (structured fields; no card data ever reaches them).</summary>
internal static partial class Log
{
    [LoggerMessage(1001, LogLevel.Information, "Connection {ConnectionId} {From} -> {To} (v{Version}): {Reason}")]
    public static partial void Transition(ILogger logger, string connectionId, ConnectionStatus from, ConnectionStatus to, long version, string reason);

    [LoggerMessage(1002, LogLevel.Warning, "Connection {ConnectionId} missed {Missed} heartbeats since {Since}; declaring it failed")]
    public static partial void HeartbeatTimeout(ILogger logger, string connectionId, int missed, DateTimeOffset since);

    [LoggerMessage(1003, LogLevel.Information, "Connection {ConnectionId} failover {Outcome}: {From} -> {To} ({Reason}, key {IdempotencyKey})")]
    public static partial void Failover(ILogger logger, string connectionId, FailoverOutcome outcome, string? from, string? to, string reason, string idempotencyKey);

    [LoggerMessage(1004, LogLevel.Warning, "Connection {ConnectionId}: projection write failed")]
    public static partial void ProjectionFailed(ILogger logger, Exception exception, string connectionId);

    [LoggerMessage(1005, LogLevel.Warning, "Connection {ConnectionId}: stream publish failed")]
    public static partial void PublishFailed(ILogger logger, Exception exception, string connectionId);

    [LoggerMessage(1006, LogLevel.Error, "Connection {ConnectionId}: persisting state failed; deactivating to reload")]
    public static partial void PersistFailed(ILogger logger, Exception exception, string connectionId);

    [LoggerMessage(1101, LogLevel.Information, "Pool {PoolId}: server {ServerId} is {Health} (zone {Zone}, capacity {Capacity})")]
    public static partial void ServerUpdated(ILogger logger, string poolId, string serverId, ServerHealth health, string zone, int capacity);

    [LoggerMessage(1102, LogLevel.Information, "Pool {PoolId}: server {ServerId} removed")]
    public static partial void ServerRemoved(ILogger logger, string poolId, string serverId);

    [LoggerMessage(1103, LogLevel.Warning, "Pool {PoolId}: evacuating connection {ConnectionId} failed")]
    public static partial void EvacuationFailed(ILogger logger, Exception exception, string poolId, string connectionId);
}
