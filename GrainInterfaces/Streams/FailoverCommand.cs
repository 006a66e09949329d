namespace OrleansControl.GrainInterfaces.Streams;

/// <summary>
/// An event: a move of the connection to <see cref="ToServerAddress"/> started (the connection entered Migrating, or
/// tried its next target). The command the sidecar carries out is in its outbox grain, not on this stream.
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
