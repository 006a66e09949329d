using Microsoft.Extensions.Diagnostics.HealthChecks;
using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;

namespace OrleansControl.Gateway.Hosting;

/// <summary>grpc.health.v1 answers SERVING only while the gateway can reach the grains (one cheap read, bounded).</summary>
internal sealed class ClusterHealthCheck(IClusterClient cluster) : IHealthCheck
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await cluster.GetGrain<IConnectionIndexGrain>(IConnectionIndexGrain.DefaultKey)
                .List(new ConnectionQuery(PageSize: 1))
                .WaitAsync(Timeout, cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy("the control plane cluster is not reachable", e);
        }
    }
}
