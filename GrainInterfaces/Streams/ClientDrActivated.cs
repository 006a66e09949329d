namespace OrleansControl.GrainInterfaces.Streams;

/// <summary>
/// A connection's client failed over to its DR standby (activate-dr-client): the active client died (silent, and the
/// server no longer held its session) and the standby signed on. Published once the standby's sign-on is the registry's
/// truth, on <see cref="ControllerStreams.ClientFailoverNamespace"/> keyed by connection id.
/// </summary>
[GenerateSerializer, Immutable, Alias("oc.ClientDrActivated")]
public sealed record ClientDrActivated(
    [property: Id(0)] string ConnectionId,
    [property: Id(1)] string ClientId,
    [property: Id(2)] string FromSidecarId,
    [property: Id(3)] string ToSidecarId,
    [property: Id(4)] string? ServerId,
    [property: Id(5)] string? ServerAddress,
    [property: Id(6)] long Version,
    [property: Id(7)] string Reason,
    [property: Id(8)] DateTimeOffset StartedAt,
    [property: Id(9)] DateTimeOffset At,
    [property: Id(10)] string? Region = null);
