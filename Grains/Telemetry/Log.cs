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

    [LoggerMessage(1005, LogLevel.Warning, "Connection {ConnectionId}: stream publish failed; the events are kept and retried")]
    public static partial void PublishFailed(ILogger logger, Exception exception, string connectionId);

    [LoggerMessage(1014, LogLevel.Information, "Connection {ConnectionId}: events publish again")]
    public static partial void PublishRecovered(ILogger logger, string connectionId);

    [LoggerMessage(1015, LogLevel.Error, "Connection {ConnectionId}: {Dropped} oldest status events dropped: the stream provider refused them for too long")]
    public static partial void EventsDropped(ILogger logger, string connectionId, int dropped);

    [LoggerMessage(1006, LogLevel.Error, "Connection {ConnectionId}: persisting state failed; deactivating to reload")]
    public static partial void PersistFailed(ILogger logger, Exception exception, string connectionId);

    [LoggerMessage(1007, LogLevel.Warning, "Connection {ConnectionId} has no failover target ({Why}); retrying with backoff and when the pool gains a server")]
    public static partial void NoTargetEntered(ILogger logger, string connectionId, string why);

    [LoggerMessage(1008, LogLevel.Information, "Connection {ConnectionId} found a failover target after {Attempts} retries ({Waited})")]
    public static partial void NoTargetLeft(ILogger logger, string connectionId, int attempts, TimeSpan waited);

    [LoggerMessage(1009, LogLevel.Warning, "Connection {ConnectionId}: the registry said {Said}, the sidecar is signed on at {Observed}; the registry follows the link")]
    public static partial void RegistryCorrected(ILogger logger, string connectionId, string? said, string? observed);

    [LoggerMessage(1010, LogLevel.Warning, "Connection {ConnectionId}: move to {Target} (attempt {Attempt}) failed: {Why}")]
    public static partial void MoveAttemptFailed(ILogger logger, string connectionId, string target, int attempt, string why);

    [LoggerMessage(1011, LogLevel.Warning, "Connection {ConnectionId}: queueing the move command for sidecar {SidecarId} failed; retrying")]
    public static partial void QueueFailed(ILogger logger, Exception exception, string connectionId, string sidecarId);

    [LoggerMessage(1012, LogLevel.Debug, "Connection {ConnectionId} failover {Outcome} ({Reason}, key {IdempotencyKey})")]
    public static partial void FailoverIgnored(ILogger logger, string connectionId, FailoverOutcome outcome, string reason, string idempotencyKey);

    [LoggerMessage(1013, LogLevel.Warning, "Connection {ConnectionId}: sending its backups to the sidecar failed; the next change sends them")]
    public static partial void BackupsFailed(ILogger logger, Exception exception, string connectionId);

    [LoggerMessage(1101, LogLevel.Information, "Pool {PoolId}: server {ServerId} is {Health} (zone {Zone}, capacity {Capacity})")]
    public static partial void ServerUpdated(ILogger logger, string poolId, string serverId, ServerHealth health, string zone, int capacity);

    [LoggerMessage(1102, LogLevel.Information, "Pool {PoolId}: server {ServerId} removed")]
    public static partial void ServerRemoved(ILogger logger, string poolId, string serverId);

    [LoggerMessage(1103, LogLevel.Warning, "Pool {PoolId}: evacuating connection {ConnectionId} failed")]
    public static partial void EvacuationFailed(ILogger logger, Exception exception, string poolId, string connectionId);

    [LoggerMessage(1104, LogLevel.Warning, "Pool {PoolId}: server {ServerId} ejected as suspect until {Until} ({Why})")]
    public static partial void ServerEjected(ILogger logger, string poolId, string serverId, DateTimeOffset until, string why);

    [LoggerMessage(1105, LogLevel.Information, "Pool {PoolId}: server {ServerId} reinstated ({Why})")]
    public static partial void ServerReinstated(ILogger logger, string poolId, string serverId, string why);

    [LoggerMessage(1106, LogLevel.Warning, "Pool {PoolId}: server {ServerId} has failures ({Why}) but is not ejected: {Limit}")]
    public static partial void EjectionCapped(ILogger logger, string poolId, string serverId, string why, string limit);

    [LoggerMessage(1107, LogLevel.Information, "Pool {PoolId}: {Count} reservations follow the registry again (reconciled)")]
    public static partial void AssignmentsReconciled(ILogger logger, string poolId, int count);

    [LoggerMessage(1108, LogLevel.Information, "Pool {PoolId}: server {ServerId} registered by its sidecar {SidecarId} ({Address}, zone {Zone}, capacity {Capacity})")]
    public static partial void ServerRegisteredBySidecar(ILogger logger, string poolId, string serverId, string sidecarId, string address, string zone, int capacity);

    [LoggerMessage(1016, LogLevel.Information, "Connection {ConnectionId} activated on silo {Silo}: {Status} at v{Version}")]
    public static partial void Activated(ILogger logger, string connectionId, string silo, ConnectionStatus status, long version);

    [LoggerMessage(1017, LogLevel.Information, "Connection {ConnectionId} deactivated on silo {Silo}: {ReasonCode} ({ReasonText}), {Status} at v{Version}")]
    public static partial void Deactivated(ILogger logger, string connectionId, string silo, DeactivationReasonCode reasonCode, string reasonText, ConnectionStatus status, long version);

    [LoggerMessage(1301, LogLevel.Information, "Index: connection {ConnectionId} v{Listed} replaced by v{Current} from a later registration or activation (the store lost or reloaded it)")]
    public static partial void IndexRowReloaded(ILogger logger, string connectionId, long listed, long current);

    [LoggerMessage(1302, LogLevel.Information, "Index: connection {ConnectionId} v{Listed} dropped: its grain was activated and its store has no registration")]
    public static partial void IndexRowForgotten(ILogger logger, string connectionId, long listed);

    [LoggerMessage(1401, LogLevel.Warning, "Connection {ConnectionId}: the client died ({Why})")]
    public static partial void ClientDied(ILogger logger, string connectionId, string why);

    [LoggerMessage(1402, LogLevel.Warning, "Connection {ConnectionId}: activating standby client {SidecarId} (attempt {Attempt})")]
    public static partial void ActivatingStandby(ILogger logger, string connectionId, string sidecarId, int attempt);

    [LoggerMessage(1403, LogLevel.Warning, "Connection {ConnectionId}: standby {SidecarId} was not activated: {Why}")]
    public static partial void ActivationFailed(ILogger logger, string connectionId, string sidecarId, string why);

    [LoggerMessage(1404, LogLevel.Warning, "Connection {ConnectionId}: DR client {SidecarId} signed on at {ServerId}; {From} joins as standby")]
    public static partial void DrActivated(ILogger logger, string connectionId, string sidecarId, string? serverId, string from);

    [LoggerMessage(1405, LogLevel.Information, "Connection {ConnectionId}: {SidecarId} registered as standby client")]
    public static partial void StandbyRegistered(ILogger logger, string connectionId, string sidecarId);

    [LoggerMessage(3100, LogLevel.Warning, "Connection {ConnectionId}: former primary {SidecarId} told to sign off (a standby now: one link only)")]
    public static partial void StoodDown(ILogger logger, string connectionId, string sidecarId);

    [LoggerMessage(3101, LogLevel.Debug, "Server {ServerKey}: session report relayed from region {Region} (received there at {ReceivedAt:o})")]
    public static partial void SessionReportRelayed(ILogger logger, string serverKey, string region, DateTimeOffset receivedAt);
}
