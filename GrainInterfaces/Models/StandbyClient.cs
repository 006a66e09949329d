namespace OrleansControl.GrainInterfaces.Models;

/// <summary>
/// A client sidecar registered as standby for a connection (another pod, zone or the DR site): it holds no link until
/// the controller activates it, because the active client died (silent, and its server session gone).
/// <see cref="FormerPrimary"/>: it carried the link before a DR activation and joined as standby when it came back.
/// </summary>
[GenerateSerializer, Immutable, Alias("oc.StandbyClient")]
public sealed record StandbyClient(
    [property: Id(0)] string SidecarId,
    [property: Id(1)] string? Region,
    [property: Id(2)] DateTimeOffset RegisteredAt,
    [property: Id(3)] bool FormerPrimary = false);

/// <summary>A DR activation under way: the standby told to connect and sign on, and until when it may take.</summary>
[GenerateSerializer, Immutable, Alias("oc.ClientActivation")]
public sealed record ClientActivation(
    [property: Id(0)] string SidecarId,
    [property: Id(1)] string CommandId,
    [property: Id(2)] string FromSidecarId,
    [property: Id(3)] DateTimeOffset StartedAt,
    [property: Id(4)] DateTimeOffset Deadline,
    [property: Id(5)] string Reason);
