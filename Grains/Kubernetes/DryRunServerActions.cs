using Microsoft.Extensions.Logging;

namespace OrleansControl.Grains.Kubernetes;

/// <summary>
/// <c>Controller:Kubernetes:DryRun</c>: logs each request the actions would send (method, path, body) and sends
/// nothing, not even reads. The pool's scaler, knowing it is a dry run, takes the pool's registered servers as the
/// Deployment's replica count and does not wait for pods.
/// </summary>
public sealed class DryRunServerActions(KubernetesOptions options, ILogger<DryRunServerActions> logger) : IServerScaler, IPodRotation
{
    public Task<DeploymentScale> ReadScaleAsync(string deployment, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("a dry run reads nothing from the API server");

    public Task ScaleAsync(string deployment, int replicas, CancellationToken cancellationToken)
    {
        Would(KubernetesApiCalls.PatchScale, $"/apis/apps/v1/namespaces/{options.Namespace}/deployments/{deployment}/scale",
            $"{{\"spec\":{{\"replicas\":{replicas}}}}}");
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<ServerPod>> ListPodsAsync(string selector, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<ServerPod>>([]);

    public Task MarkForRemovalAsync(string pod, CancellationToken cancellationToken)
    {
        Would(KubernetesApiCalls.PatchPod, PodPath(pod),
            $"{{\"metadata\":{{\"annotations\":{{\"{KubernetesServerActions.DeletionCostAnnotation}\":\"-1000\"}}}}}}");
        return Task.CompletedTask;
    }

    public Task SetRotationAsync(string pod, bool inRotation, CancellationToken cancellationToken)
    {
        Would(KubernetesApiCalls.PatchPod, PodPath(pod),
            $"{{\"metadata\":{{\"labels\":{{\"{options.RotationLabel}\":\"{(inRotation ? "in" : "out")}\"}}}}}}");
        return Task.CompletedTask;
    }

    private string PodPath(string pod) => $"/api/v1/namespaces/{options.Namespace}/pods/{pod}";

    private void Would(KubernetesApiCall call, string path, string body) =>
        KubernetesLog.DryRun(logger, call.ToString(), call.Verb == "patch" ? "PATCH" : "GET", path, body);
}
