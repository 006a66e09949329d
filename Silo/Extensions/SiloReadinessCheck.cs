using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orleans.Runtime;
using OrleansControl.Silo.Membership;

namespace OrleansControl.Silo.Extensions;

/// <summary>
/// Ready when this silo has joined the cluster and is Active (not joining, not shutting down) and, on Redis clustering,
/// its membership view agrees with the membership table (<see cref="MembershipTableWatch"/>): a silo whose table was
/// lost or replaced must not take traffic for a cluster that no longer exists.
/// </summary>
public sealed class SiloReadinessCheck(ISiloStatusOracle oracle, MembershipTableWatch? watch = null) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (oracle.CurrentStatus != SiloStatus.Active)
            return Task.FromResult(HealthCheckResult.Unhealthy($"silo {oracle.CurrentStatus}"));
        if (watch is { Disagrees: true })
            return Task.FromResult(HealthCheckResult.Unhealthy($"silo active, but {watch.Latest.Detail}"));
        if (watch is { Latest.Verdict: MembershipVerdict.Unreachable })
            return Task.FromResult(HealthCheckResult.Degraded($"silo active; {watch.Latest.Detail}"));
        return Task.FromResult(HealthCheckResult.Healthy("silo active"));
    }
}
