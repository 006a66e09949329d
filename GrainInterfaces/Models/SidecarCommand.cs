using System.Collections.Immutable;

namespace OrleansControl.GrainInterfaces.Models;

[GenerateSerializer, Alias("oc.gw.SidecarCommandKind")]
public enum SidecarCommandKind
{
    Connect = 1,
    ReconnectElsewhere = 2,
    Drain = 3,
    StopSending = 4,
    SignOff = 5,
    /// <summary>The connection's ranked backups, for the sidecar's own move when the controller cannot answer in time.</summary>
    Backups = 6,
}

/// <summary>A server the sidecar may move to on its own (best first in a <see cref="SidecarCommand.Backups"/> list).</summary>
[GenerateSerializer, Immutable, Alias("oc.BackupServer")]
public sealed record BackupServer(
    [property: Id(0)] string ServerId,
    [property: Id(1)] string Address,
    [property: Id(2)] string Zone);

/// <summary>
/// A command for one sidecar. <see cref="CommandId"/> is unique: a move's id carries a nonce drawn when the move
/// started, so no controller (restarted, on memory or on Redis) issues the same id for a different command, and the
/// sidecar's "already executed" check can rely on it alone. <see cref="TraceParent"/> is the W3C traceparent of the
/// decision that issued it (a move's is kept with the move, so a later attempt or re-queue keeps it; otherwise the outbox
/// stamps the call that queued it), so the sidecar's execution and its acknowledgement join that trace.
/// </summary>
[GenerateSerializer, Immutable, Alias("oc.gw.SidecarCommand")]
public sealed record SidecarCommand(
    [property: Id(0)] string CommandId,
    [property: Id(1)] SidecarCommandKind Kind,
    [property: Id(2)] string ConnectionId,
    [property: Id(3)] string? TargetServerId,
    [property: Id(4)] string? TargetServerAddress,
    [property: Id(5)] DateTimeOffset Deadline,
    [property: Id(6)] string Reason,
    [property: Id(7)] ImmutableArray<BackupServer> Backups = default,
    [property: Id(8)] string? TraceParent = null)
{
    /// <summary>Connect and ReconnectElsewhere move the link; a newer one for the same connection supersedes an older.</summary>
    public bool MovesLink => Kind is SidecarCommandKind.Connect or SidecarCommandKind.ReconnectElsewhere;

    /// <summary>Whether <paramref name="newer"/> makes this command pointless if it is still pending.</summary>
    public bool IsSupersededBy(SidecarCommand newer) =>
        ConnectionId == newer.ConnectionId && ((MovesLink && newer.MovesLink) || (Kind == SidecarCommandKind.Backups && newer.Kind == SidecarCommandKind.Backups));
}

/// <summary>A command with its place in the sidecar's sequence.</summary>
[GenerateSerializer, Immutable, Alias("oc.gw.PendingCommand")]
public sealed record PendingCommand(
    [property: Id(0)] long Sequence,
    [property: Id(1)] SidecarCommand Command);

/// <summary>
/// What a (re)attaching stream gets: its epoch (a newer attach supersedes it), the outbox's incarnation (new when the
/// outbox's state was lost, e.g. a restart on the in-memory default) and every unacknowledged command.
/// </summary>
[GenerateSerializer, Immutable, Alias("oc.gw.OutboxAttachment")]
public sealed record OutboxAttachment(
    [property: Id(0)] long Epoch,
    [property: Id(1)] long AckedSequence,
    [property: Id(2)] PendingCommand[] Pending,
    [property: Id(3)] string Incarnation = "");

/// <summary>
/// How a sidecar says a command ended. <see cref="SignedOnAt"/> is the server address the link is signed on at when it
/// ended (null: nowhere): evidence the connection grain acts on, whatever <see cref="Success"/> says.
/// </summary>
[GenerateSerializer, Immutable, Alias("oc.CommandReceipt")]
public sealed record CommandReceipt(
    [property: Id(0)] string CommandId,
    [property: Id(1)] bool Success,
    [property: Id(2)] string Detail,
    [property: Id(3)] string? SignedOnAt);
