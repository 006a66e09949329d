using System.Collections.Immutable;

namespace OrleansControl.GrainInterfaces.Models;

/// <summary>
/// What a client asks for when it registers a connection: a server from a pool, optionally a preferred one.
/// <see cref="SidecarId"/> is the sidecar that carries the link (it receives the connection's commands; none: nobody
/// can carry a move, and a failover waits for one); <see cref="Region"/> is the region whose registry owns the entry.
/// <see cref="Standby"/>: the sidecar registers as a standby client of an existing connection (DR): it holds no link
/// until the controller activates it.
/// </summary>
[GenerateSerializer, Immutable, Alias("oc.ConnectionRegistration")]
public sealed record ConnectionRegistration(
    [property: Id(0)] string ClientId,
    [property: Id(1)] string ServerPool,
    [property: Id(2)] string? PreferredServer = null,
    [property: Id(3)] ImmutableDictionary<string, string>? Metadata = null,
    [property: Id(4)] string? SidecarId = null,
    [property: Id(5)] string? Region = null,
    [property: Id(20)] bool Standby = false);
