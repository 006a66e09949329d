using OrleansControl.Sidecar.Health;

namespace OrleansControl.Sidecar.Agent;

/// <summary>What GET /control/status returns: the link's health and the agent's view of its controller.</summary>
public sealed record AgentStatus(
    string SidecarId,
    string ConnectionId,
    string? Controller,
    bool ControllerAttached,
    string? ControllerError,
    string? AssignedServer,
    ulong LastAckedSequence,
    string? OutboxIncarnation,
    DateTimeOffset? LastHeartbeatAt,
    bool SendingStopped,
    LinkHealthSnapshot Link,
    IReadOnlyList<CommandRecord> RecentCommands,
    IReadOnlyList<RankedBackup> Backups,
    OwnMove? LastOwnMove,
    Reversals.ReversalStatus? Reversals,
    IReadOnlyList<string> LearnedGateways,
    bool Standby = false);

/// <summary>A command the agent carried out (or refused), newest last.</summary>
public sealed record CommandRecord(string CommandId, ulong Sequence, string Kind, bool Success, string Detail, DateTimeOffset At);
