namespace OrleansControl.GrainInterfaces.Models;

/// <summary>The state of a sidecar's ISO 8583 link as the sidecar observes it (the wire's LinkState).</summary>
[GenerateSerializer, Alias("oc.ObservedLinkState")]
public enum ObservedLinkState
{
    Unknown = 0,
    Connecting = 1,
    Connected = 2,
    /// <summary>Signed on: transactions can flow. The only state in which a connection may be shown Active there.</summary>
    SignedOn = 3,
    Draining = 4,
    Disconnected = 5,
    Failed = 6,
}

/// <summary>
/// What the sidecar sees of its link right now: its state and the server address it is connected to (null while it
/// is not). Carried by heartbeats and state reports; the connection grain makes the registry follow it.
/// <see cref="MovedFrom"/>: the sidecar moved the link on its own (its server went down and no target came in time),
/// away from that address. <see cref="ObservedBy"/>: the sidecar that said it (filled in by the gateway from its stream;
/// during a DR activation the standby's word is the evidence, anyone else's is not). <see cref="LocalAddress"/>: the
/// client's own end of the link (host:port), which the server side reports its sessions by.
/// </summary>
[GenerateSerializer, Immutable, Alias("oc.LinkObservation")]
public sealed record LinkObservation(
    [property: Id(0)] ObservedLinkState State,
    [property: Id(1)] string? ServerAddress,
    [property: Id(2)] string Detail = "",
    [property: Id(3)] string? MovedFrom = null,
    [property: Id(20)] string? ObservedBy = null,
    [property: Id(21)] string? LocalAddress = null)
{
    public bool IsSignedOnAt(string? address) =>
        State == ObservedLinkState.SignedOn && address is not null && string.Equals(ServerAddress, address, StringComparison.OrdinalIgnoreCase);
}
