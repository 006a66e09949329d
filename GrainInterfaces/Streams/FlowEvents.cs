namespace OrleansControl.GrainInterfaces.Streams;

/// <summary>
/// The controller that heard it first (the connection's own grain, on the sidecar's FAILED report or its heartbeat
/// timeout) says the link to <see cref="ServerId"/> is lost. The sidecar itself needs no Kafka client.
/// </summary>
[GenerateSerializer, Immutable, Alias("oc.ConnectionLost")]
public sealed record ConnectionLost(
    [property: Id(0)] string ConnectionId,
    [property: Id(1)] string ClientId,
    [property: Id(2)] string? ServerId,
    [property: Id(3)] string? ServerAddress,
    [property: Id(4)] string? SidecarId,
    [property: Id(5)] string? Region,
    // sidecar-report or heartbeat-timeout.
    [property: Id(6)] string DetectedBy,
    [property: Id(7)] string Reason,
    // The connection's version after it became Failed.
    [property: Id(8)] long Version,
    [property: Id(9)] DateTimeOffset At);

/// <summary>
/// For the scheme side: stop server-initiated requests to <see cref="ClientId"/> on <see cref="ServerId"/>, which the
/// client is leaving (a move started). Answers to the client's own requests still flow. Sessions the client opens at
/// that server after <see cref="IssuedAt"/> are not affected.
/// </summary>
[GenerateSerializer, Immutable, Alias("oc.ServerStopSending")]
public sealed record ServerStopSending(
    [property: Id(0)] string ConnectionId,
    [property: Id(1)] string ClientId,
    [property: Id(2)] string ServerId,
    [property: Id(3)] string? ServerAddress,
    [property: Id(4)] string ToServerId,
    [property: Id(5)] string Reason,
    // The move's idempotency key: one move, one key.
    [property: Id(6)] string IdempotencyKey,
    [property: Id(7)] DateTimeOffset IssuedAt);

/// <summary>A move ended with the sidecar signed on at <see cref="ServerId"/> (the target, or where it went instead).</summary>
[GenerateSerializer, Immutable, Alias("oc.ConnectionEstablished")]
public sealed record ConnectionEstablished(
    [property: Id(0)] string ConnectionId,
    [property: Id(1)] string ClientId,
    [property: Id(2)] string? FromServerId,
    [property: Id(3)] string? ServerId,
    [property: Id(4)] string ServerAddress,
    [property: Id(5)] string IdempotencyKey,
    [property: Id(6)] int Attempts,
    // When the link was found broken (or the move was requested).
    [property: Id(7)] DateTimeOffset FailedAt,
    [property: Id(8)] DateTimeOffset EstablishedAt,
    // The connection's version after it became Active there.
    [property: Id(9)] long Version,
    // controller (a move the controller commanded) or sidecar (the sidecar moved on its own).
    [property: Id(10)] string MovedBy = "controller");

/// <summary>
/// A move ended without the link signed on at any target. <see cref="StaysAtServerId"/>: the link is still signed on
/// where it was (the connection is Active there again); null: the connection is Failed and waits for a target.
/// </summary>
[GenerateSerializer, Immutable, Alias("oc.FailoverFailed")]
public sealed record FailoverFailed(
    [property: Id(0)] string ConnectionId,
    [property: Id(1)] string ClientId,
    [property: Id(2)] string? FromServerId,
    [property: Id(3)] string LastTargetServerId,
    [property: Id(4)] string IdempotencyKey,
    [property: Id(5)] int Attempts,
    [property: Id(6)] string Reason,
    [property: Id(7)] string? StaysAtServerId,
    [property: Id(8)] DateTimeOffset At,
    [property: Id(9)] long Version);

/// <summary>
/// What the sidecar's heartbeats said of a connection's health, at most once per HeartbeatPersistInterval per
/// connection (when its heartbeat state is persisted): monitoring data, superseded by the next one.
/// </summary>
[GenerateSerializer, Immutable, Alias("oc.ConnectionHealthReport")]
public sealed record ConnectionHealthReport(
    [property: Id(0)] string ConnectionId,
    [property: Id(1)] string ClientId,
    [property: Id(2)] string? ServerId,
    [property: Id(3)] Models.ConnectionStatus Status,
    [property: Id(4)] int HealthScore,
    [property: Id(5)] double EchoRttMs,
    [property: Id(6)] int Errors,
    [property: Id(7)] int Timeouts,
    [property: Id(8)] DateTimeOffset? LastHeartbeat,
    [property: Id(9)] string? Region,
    [property: Id(10)] DateTimeOffset At);
