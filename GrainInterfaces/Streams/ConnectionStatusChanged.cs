using OrleansControl.GrainInterfaces.Models;

namespace OrleansControl.GrainInterfaces.Streams;

/// <summary>
/// Published after every persisted status change of a connection, and after a correction of where it is (From == To:
/// the registry followed the link to another server). It carries everything the registry's listing shows, so the other
/// region can keep its replica current from the bus alone while the gRPC link is down.
/// </summary>
[GenerateSerializer, Immutable, Alias("oc.ConnectionStatusChanged")]
public sealed record ConnectionStatusChanged(
    [property: Id(0)] string ConnectionId,
    [property: Id(1)] string ClientId,
    [property: Id(2)] string? ServerId,
    [property: Id(3)] ConnectionStatus From,
    [property: Id(4)] ConnectionStatus To,
    [property: Id(5)] long Version,
    [property: Id(6)] int HealthScore,
    [property: Id(7)] string? FailoverTarget,
    [property: Id(8)] string Reason,
    [property: Id(9)] DateTimeOffset At,
    [property: Id(10)] string? SidecarId = null,
    [property: Id(11)] string? Region = null,
    [property: Id(12)] string? ServerAddress = null,
    [property: Id(13)] string? ServerPool = null,
    [property: Id(14)] string? StatusDetail = null,
    // The registration the change belongs to (see Models.ConnectionIncarnation); null from producers before it existed.
    [property: Id(30)] string? Incarnation = null);
