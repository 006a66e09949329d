using System.Collections.Immutable;

namespace OrleansControl.GrainInterfaces.Models;

/// <summary>What a client asks for when it registers a connection: a server from a pool, optionally a preferred one.</summary>
[GenerateSerializer, Immutable, Alias("oc.ConnectionRegistration")]
public sealed record ConnectionRegistration(
    [property: Id(0)] string ClientId,
    [property: Id(1)] string ServerPool,
    [property: Id(2)] string? PreferredServer = null,
    [property: Id(3)] ImmutableDictionary<string, string>? Metadata = null);
