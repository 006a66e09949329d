using System.Collections.Immutable;

namespace OrleansControl.GrainInterfaces;

/// <summary>
/// Which gateways sidecars can attach to (key 0: one per cluster). Each gateway registers its sidecar-facing address
/// about once a second, with the silo it is co-hosted on; the answer is the live list: gateways whose silo membership
/// lists as active (a stand-alone gateway, with no silo, while it keeps registering). Soft state: a directory
/// re-activated after its silo died is whole again within one registration period.
/// </summary>
[Alias("oc.IGatewayDirectoryGrain")]
public interface IGatewayDirectoryGrain : IGrainWithIntegerKey
{
    [Alias("Register")]
    Task<ImmutableArray<string>> Register(GatewayRegistration registration);
}

/// <param name="Instance">Unique per gateway process (a restarted one registers anew).</param>
/// <param name="Address">What sidecars dial: an absolute http(s) URI.</param>
/// <param name="Silo">The co-hosting silo (SiloAddress.ToParsableString), or null for a stand-alone gateway.</param>
[GenerateSerializer, Immutable, Alias("oc.GatewayRegistration")]
public sealed record GatewayRegistration(
    [property: Id(0)] string Instance,
    [property: Id(1)] string Address,
    [property: Id(2)] string? Silo);

/// <summary>The silo a gateway is co-hosted on (registered by the silo; absent in a stand-alone gateway).</summary>
public interface IGatewayHostSilo
{
    /// <summary>SiloAddress.ToParsableString() of the local silo.</summary>
    string SiloAddress { get; }
}
