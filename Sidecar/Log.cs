using Microsoft.Extensions.Logging;

namespace OrleansControl.Sidecar;

/// <summary>The sidecar's log lines. Never a message's contents: MTIs, session ids, endpoints and counts only.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Session {SessionId} with {Remote} ended: {Reason}")]
    public static partial void SessionEnded(ILogger logger, long sessionId, string remote, string reason);

    [LoggerMessage(2, LogLevel.Warning, "Session {SessionId}: unreadable message skipped: {Error}")]
    public static partial void UnreadableMessage(ILogger logger, long sessionId, string error);

    [LoggerMessage(13, LogLevel.Warning, "Session {SessionId}: MTI {Mti:D4} could not be packed and was not sent: {Error}")]
    public static partial void UnsendableMessage(ILogger logger, long sessionId, int mti, string error);

    [LoggerMessage(14, LogLevel.Debug, "Session {SessionId}: sign-off got no answer: {Error}")]
    public static partial void SignOffUnanswered(ILogger logger, long sessionId, SidecarError error);

    [LoggerMessage(15, LogLevel.Warning, "Agent: controller rejected a report for {ConnectionId}: {Code}: {Message}")]
    public static partial void ReportRejected(ILogger logger, string connectionId, string code, string message);

    [LoggerMessage(16, LogLevel.Warning, "Agent: controller outbox {Incarnation} (was {Previous}) resumes after #{ResumedAfter}; acked sequences up to #{LastAcked} forgotten")]
    public static partial void OutboxRestarted(ILogger logger, string incarnation, string previous, ulong resumedAfter, ulong lastAcked);

    [LoggerMessage(17, LogLevel.Information, "Agent: registration names {Assigned}; the link stays signed on at {SignedOnAt} (the controller follows the link)")]
    public static partial void AssignmentNotFollowed(ILogger logger, string assigned, string signedOnAt);

    [LoggerMessage(3, LogLevel.Information, "Connection {Name}: {Previous} -> {Current} ({Endpoint}): {Reason}")]
    public static partial void StateChanged(ILogger logger, string name, Health.ConnectionState previous, Health.ConnectionState current, string? endpoint, string reason);

    [LoggerMessage(4, LogLevel.Warning, "Connection {Name}: connect to {Endpoint} failed (attempt {Attempt}), next try in {DelayMs} ms: {Error}")]
    public static partial void ConnectFailed(ILogger logger, string name, string endpoint, int attempt, long delayMs, string error);

    [LoggerMessage(5, LogLevel.Warning, "Connection {Name}: echo {Outcome} on session {SessionId} ({Misses} missed in a row)")]
    public static partial void EchoMissed(ILogger logger, string name, string outcome, long sessionId, int misses);

    [LoggerMessage(6, LogLevel.Warning, "Connection {Name}: {Count} requests failed with {Error} when session {SessionId} ended")]
    public static partial void RequestsFailed(ILogger logger, string name, int count, SidecarError error, long sessionId);

    [LoggerMessage(7, LogLevel.Error, "Inbound handler failed for MTI {Mti:D4}")]
    public static partial void InboundHandlerFailed(ILogger logger, int mti, Exception error);

    [LoggerMessage(8, LogLevel.Information, "Server {Name}: refused {Remote}, {Count} sessions already open (capacity)")]
    public static partial void CapacityRefused(ILogger logger, string name, string remote, int count);

    [LoggerMessage(9, LogLevel.Information, "Server {Name}: session {SessionId} from {Remote} {Event}")]
    public static partial void ServerSession(ILogger logger, string name, long sessionId, string remote, string @event);

    [LoggerMessage(10, LogLevel.Warning, "Agent: controller link down, retrying in {DelayMs} ms: {Error}")]
    public static partial void ControllerUnreachable(ILogger logger, long delayMs, string error);

    [LoggerMessage(11, LogLevel.Information, "Agent: command {CommandId} #{Sequence} {Kind} -> {Success}: {Detail}")]
    public static partial void CommandExecuted(ILogger logger, string commandId, ulong sequence, string kind, bool success, string detail);

    [LoggerMessage(12, LogLevel.Information, "Agent: attached to controller as {SidecarId}, resumed after #{ResumedAfter}, {Pending} pending")]
    public static partial void Attached(ILogger logger, string sidecarId, ulong resumedAfter, int pending);

    [LoggerMessage(140, LogLevel.Information, "Agent: declaring server {ServerId} of pool {Pool} at {Address} to the controller")]
    public static partial void ServerDeclared(ILogger logger, string serverId, string pool, string address);

    [LoggerMessage(17, LogLevel.Warning, "Agent: moved the link on its own from {From} to backup {To} ({Cause})")]
    public static partial void MovedOnOwn(ILogger logger, string from, string to, string cause);

    [LoggerMessage(18, LogLevel.Warning, "Agent: own move from {From} to backup {To} failed: {Error}")]
    public static partial void OwnMoveFailed(ILogger logger, string from, string to, string error);

    [LoggerMessage(19, LogLevel.Warning, "Agent: no usable backup signed on ({Count} known); the link stays with {From}")]
    public static partial void NoUsableBackup(ILogger logger, string from, int count);

    [LoggerMessage(20, LogLevel.Information, "Connection {Name}: reversal #{Id} {Mti:D4} STAN {Stan} queued for original {OriginalData} (terminal {Terminal}, PAN {Pan}, amount {Amount})")]
    public static partial void ReversalQueued(ILogger logger, string name, long id, int mti, string? stan, string? originalData, string? terminal, string? pan, string? amount);

    [LoggerMessage(21, LogLevel.Debug, "Connection {Name}: reversal #{Id} sent as {Mti:D4} (transmission {Attempt})")]
    public static partial void ReversalSent(ILogger logger, string name, long id, int mti, int attempt);

    [LoggerMessage(22, LogLevel.Information, "Connection {Name}: reversal #{Id} acknowledged by {Mti:D4} with response code {Code} after {Attempts} transmissions")]
    public static partial void ReversalAcknowledged(ILogger logger, string name, long id, int mti, string? code, int attempts);

    [LoggerMessage(23, LogLevel.Warning, "Connection {Name}: reversal #{Id} {Mti:D4} STAN {Stan} for original {OriginalData} (terminal {Terminal}, PAN {Pan}, amount {Amount}) given up after {Attempts} transmissions: {Reason}")]
    public static partial void ReversalGivenUp(ILogger logger, string name, long id, int mti, string? stan, string? originalData, string? terminal, string? pan, string? amount, int attempts, string reason);

    [LoggerMessage(24, LogLevel.Warning, "Connection {Name}: late {Mti:D4} for a reversed request (STAN {Stan}, terminal {Terminal}, PAN {Pan}, response code {Code}): counted, not delivered as an answer")]
    public static partial void LateResponseToReversed(ILogger logger, string name, int mti, string? stan, string? terminal, string? pan, string? code);

    [LoggerMessage(25, LogLevel.Error, "Connection {Name}: a {Mti:D4} whose fate is unknown (STAN {Stan}) could not be queued for reversal: {Error}")]
    public static partial void ReversalNotQueued(ILogger logger, string name, int mti, string? stan, string error);

    [LoggerMessage(26, LogLevel.Information, "Connection {Name}: reversal journal {Path} opened, {Pending} reversals to send")]
    public static partial void JournalOpened(ILogger logger, string name, string path, int pending);

    [LoggerMessage(27, LogLevel.Error, "Connection {Name}: reversal #{Id} ended ({End}) but the journal could not record it; it will be sent again after a restart: {Error}")]
    public static partial void JournalEndFailed(ILogger logger, string name, long id, Reversals.ReversalEnd end, string error);

    [LoggerMessage(28, LogLevel.Warning, "Connection {Name}: reversal #{Id} could not record transmission {Attempt}; retrying in {DelayMs} ms: {Error}")]
    public static partial void JournalAttemptFailed(ILogger logger, string name, long id, int attempt, long delayMs, string error);

    [LoggerMessage(61, LogLevel.Warning, "Server {Name}: TLS client {Remote} refused: {Reason}")]
    public static partial void TlsRefused(ILogger logger, string name, string remote, string reason);

    [LoggerMessage(70, LogLevel.Warning, "Agent: connection {ConnectionId}: standby {Standby} (a standby opens no link until the controller activates it)")]
    public static partial void StandbyChanged(ILogger logger, string connectionId, bool standby);

    [LoggerMessage(71, LogLevel.Information, "Server {ServerId}: session reports attached to the controller")]
    public static partial void SessionReporterAttached(ILogger logger, string serverId);

    [LoggerMessage(72, LogLevel.Warning, "Server {ServerId}: session reports cannot reach the controller, retrying in {DelayMs} ms: {Error}")]
    public static partial void SessionReporterUnreachable(ILogger logger, string serverId, long delayMs, string error);

    [LoggerMessage(73, LogLevel.Warning, "Server {ServerId}: the controller rejected a session report: {Code}: {Message}")]
    public static partial void SessionReportRejected(ILogger logger, string serverId, string code, string message);

    [LoggerMessage(3242, LogLevel.Information, "Agent: the ack of command {CommandId} (#{Sequence}) was not applied by the controller; sent again")]
    public static partial void AckSentAgain(ILogger logger, string commandId, ulong sequence);
}
