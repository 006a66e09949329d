using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Polly;

namespace OrleansControl.Grains.Kubernetes;

/// <summary>
/// The actions against the API server (KubernetesClient), each request named by its <see cref="KubernetesApiCalls"/>
/// entry and sent through the retry pipeline of <see cref="KubernetesRetry"/>. Patches are JSON merge patches
/// (<c>application/merge-patch+json</c>) with field manager <see cref="FieldManager"/>.
/// </summary>
public sealed class KubernetesServerActions(
    IKubernetes client, KubernetesOptions options, ILogger<KubernetesServerActions> logger, KubernetesMetrics metrics, TimeProvider time)
    : IServerScaler, IPodRotation
{
    public const string FieldManager = "orleanscontrol";

    /// <summary>The ReplicaSet removes pods with the lowest cost first (Kubernetes' PodDeletionCost).</summary>
    public const string DeletionCostAnnotation = "controller.kubernetes.io/pod-deletion-cost";

    private string Ns => options.Namespace;

    public async Task<DeploymentScale> ReadScaleAsync(string deployment, CancellationToken cancellationToken)
    {
        var scale = await SendAsync(KubernetesApiCalls.ReadScale, deployment,
            ct => client.AppsV1.ReadNamespacedDeploymentScaleAsync(deployment, Ns, cancellationToken: ct), cancellationToken);
        return new DeploymentScale(deployment, scale.Spec?.Replicas ?? 0, scale.Status?.Selector ?? "");
    }

    public Task ScaleAsync(string deployment, int replicas, CancellationToken cancellationToken)
    {
        var patch = MergePatch(new JsonObject { ["spec"] = new JsonObject { ["replicas"] = replicas } });
        return SendAsync(KubernetesApiCalls.PatchScale, deployment,
            ct => client.AppsV1.PatchNamespacedDeploymentScaleAsync(patch, deployment, Ns, fieldManager: FieldManager, cancellationToken: ct),
            cancellationToken);
    }

    public async Task<IReadOnlyList<ServerPod>> ListPodsAsync(string selector, CancellationToken cancellationToken)
    {
        var pods = await SendAsync(KubernetesApiCalls.ListPods, selector,
            ct => client.CoreV1.ListNamespacedPodAsync(Ns, labelSelector: selector, cancellationToken: ct), cancellationToken);
        return [.. pods.Items.Select(ToServerPod)];
    }

    public Task MarkForRemovalAsync(string pod, CancellationToken cancellationToken) =>
        PatchPodAsync(pod, new JsonObject { ["annotations"] = new JsonObject { [DeletionCostAnnotation] = "-1000" } }, cancellationToken);

    public Task SetRotationAsync(string pod, bool inRotation, CancellationToken cancellationToken) =>
        PatchPodAsync(pod, new JsonObject { ["labels"] = new JsonObject { [options.RotationLabel] = inRotation ? "in" : "out" } }, cancellationToken);

    private Task PatchPodAsync(string pod, JsonObject metadata, CancellationToken cancellationToken)
    {
        var patch = MergePatch(new JsonObject { ["metadata"] = metadata });
        return SendAsync(KubernetesApiCalls.PatchPod, pod,
            ct => client.CoreV1.PatchNamespacedPodAsync(patch, pod, Ns, fieldManager: FieldManager, cancellationToken: ct), cancellationToken);
    }

    private ServerPod ToServerPod(V1Pod pod) => new(
        pod.Metadata.Name,
        pod.Status?.PodIP,
        pod.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true,
        pod.Metadata.DeletionTimestamp is not null,
        pod.Metadata.Labels?.TryGetValue(options.RotationLabel, out var rotation) != true || rotation != "out",
        pod.Metadata.CreationTimestamp is { } created ? new DateTimeOffset(DateTime.SpecifyKind(created, DateTimeKind.Utc)) : null);

    private static V1Patch MergePatch(JsonObject body) => new(body.ToJsonString(), V1Patch.PatchType.MergePatch);

    private async Task<T> SendAsync<T>(KubernetesApiCall call, string target, Func<CancellationToken, Task<T>> request, CancellationToken cancellationToken)
    {
        var attempts = 0;
        var pipeline = KubernetesRetry.Build(options, time, (attempt, delay, error) =>
        {
            KubernetesLog.Retrying(logger, call.ToString(), target, attempt, delay, error is null ? "" : KubernetesRetry.ReasonOf(error));
            metrics.ApiRequest(call, error is null ? "ok" : Outcome(error));
        });
        try
        {
            var result = await pipeline.ExecuteAsync(async ct =>
            {
                attempts++;
                return await request(ct);
            }, cancellationToken);
            metrics.ApiRequest(call, "ok");
            return result;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            metrics.ApiRequest(call, Outcome(ex));
            throw new KubernetesActionException(call, target, KubernetesRetry.StatusOf(ex), KubernetesRetry.ReasonOf(ex), attempts, ex);
        }
    }

    private static string Outcome(Exception error) => KubernetesRetry.StatusOf(error) is { } status ? ((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture) : "no_response";
}
