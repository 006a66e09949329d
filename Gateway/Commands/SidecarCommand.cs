namespace OrleansControl.Gateway.Commands;

[GenerateSerializer, Alias("oc.gw.SidecarCommandKind")]
public enum SidecarCommandKind
{
    Connect = 1,
    ReconnectElsewhere = 2,
    Drain = 3,
    StopSending = 4,
    SignOff = 5,
}

/// <summary>
/// A command for one sidecar. <see cref="CommandId"/> is stable (derived from what caused it, e.g. the failover's
/// idempotency key), so enqueuing the same cause twice yields one command.
/// </summary>
[GenerateSerializer, Immutable, Alias("oc.gw.SidecarCommand")]
public sealed record SidecarCommand(
    [property: Id(0)] string CommandId,
    [property: Id(1)] SidecarCommandKind Kind,
    [property: Id(2)] string ConnectionId,
    [property: Id(3)] string? TargetServerId,
    [property: Id(4)] string? TargetServerAddress,
    [property: Id(5)] DateTimeOffset Deadline,
    [property: Id(6)] string Reason);

/// <summary>A command with its place in the sidecar's sequence.</summary>
[GenerateSerializer, Immutable, Alias("oc.gw.PendingCommand")]
public sealed record PendingCommand(
    [property: Id(0)] long Sequence,
    [property: Id(1)] SidecarCommand Command);

/// <summary>What a (re)attaching stream gets: its epoch (a newer attach supersedes it) and every unacknowledged command.</summary>
[GenerateSerializer, Immutable, Alias("oc.gw.OutboxAttachment")]
public sealed record OutboxAttachment(
    [property: Id(0)] long Epoch,
    [property: Id(1)] long AckedSequence,
    [property: Id(2)] PendingCommand[] Pending);
