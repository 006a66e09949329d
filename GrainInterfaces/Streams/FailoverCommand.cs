namespace OrleansControl.GrainInterfaces.Streams;

/// <summary>
/// Tells the client's sidecar to move its connection to <see cref="ToServerAddress"/>. Published when the connection
/// enters Migrating (before it is marked active on the target). <see cref="IdempotencyKey"/> identifies the failover,
/// so a sidecar that sees the same command twice reconnects once.
/// </summary>
[GenerateSerializer, Immutable, Alias("oc.FailoverCommand")]
public sealed record FailoverCommand(
    [property: Id(0)] string ConnectionId,
    [property: Id(1)] string ClientId,
    [property: Id(2)] string? FromServerId,
    [property: Id(3)] string ToServerId,
    [property: Id(4)] string ToServerAddress,
    [property: Id(5)] string Reason,
    [property: Id(6)] string IdempotencyKey,
    [property: Id(7)] DateTimeOffset IssuedAt);
