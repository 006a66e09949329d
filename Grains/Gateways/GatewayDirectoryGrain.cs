using System.Collections.Immutable;
using OrleansControl.GrainInterfaces;

namespace OrleansControl.Grains.Gateways;

/// <summary>
/// The gateways' registrations, filtered by Orleans membership: a co-hosted gateway is live while its silo is Active
/// in this silo's membership view, so a silo declared dead drops out of every sidecar's list at once; a stand-alone
/// gateway is live while it registered within <see cref="StandaloneLease"/>. A restarted gateway (new instance) on
/// the same address replaces the old entry.
/// </summary>
public sealed class GatewayDirectoryGrain(IClusterMembershipService membership, TimeProvider time) : Grain, IGatewayDirectoryGrain
{
    private static readonly TimeSpan StandaloneLease = TimeSpan.FromSeconds(10);
    private readonly Dictionary<string, (GatewayRegistration Registration, DateTimeOffset At)> _byAddress = new(StringComparer.OrdinalIgnoreCase);

    public Task<ImmutableArray<string>> Register(GatewayRegistration registration)
    {
        var now = time.GetUtcNow();
        _byAddress[registration.Address] = (registration, now);
        var live = new List<string>();
        foreach (var (address, (entry, at)) in _byAddress.ToList())
        {
            var alive = entry.Silo is { } silo
                ? membership.CurrentSnapshot.GetSiloStatus(SiloAddress.FromParsableString(silo)) == SiloStatus.Active
                : now - at <= StandaloneLease;
            if (alive)
                live.Add(address);
            else if (entry.Silo is null || membership.CurrentSnapshot.GetSiloStatus(SiloAddress.FromParsableString(entry.Silo)) == SiloStatus.Dead)
                _byAddress.Remove(address);
        }
        live.Sort(StringComparer.Ordinal);
        return Task.FromResult(live.ToImmutableArray());
    }
}

/// <summary>The local silo's address for a co-hosted gateway's registration.</summary>
internal sealed class GatewayHostSilo(ILocalSiloDetails silo) : IGatewayHostSilo
{
    public string SiloAddress => silo.SiloAddress.ToParsableString();
}
