namespace OrleansControl.Grains.Kubernetes;

/// <summary>
/// One kind of Kubernetes API request the actions send, as RBAC sees it. <see cref="ByName"/>: the request names its
/// object, so a Role can restrict it with resourceNames (the configured Deployments); list requests and requests on
/// pods (whose names the ReplicaSet generates) cannot be.
/// </summary>
public sealed record KubernetesApiCall(string Verb, string ApiGroup, string Resource, bool ByName)
{
    public override string ToString() => $"{Verb} {(ApiGroup.Length == 0 ? "core" : ApiGroup)}/{Resource}";
}

/// <summary>
/// Every request the Kubernetes actions can send, and nothing else: <see cref="KubernetesServerActions"/> passes one
/// of these with each request (it names the request in events and metrics), and test/Deploy.Tests proves the
/// controller's Role grants exactly these, no more.
/// </summary>
public static class KubernetesApiCalls
{
    /// <summary>GET /apis/apps/v1/namespaces/{ns}/deployments/{name}/scale: replicas and the pods' selector.</summary>
    public static readonly KubernetesApiCall ReadScale = new("get", "apps", "deployments/scale", ByName: true);

    /// <summary>PATCH /apis/apps/v1/namespaces/{ns}/deployments/{name}/scale (merge patch of spec.replicas).</summary>
    public static readonly KubernetesApiCall PatchScale = new("patch", "apps", "deployments/scale", ByName: true);

    /// <summary>GET /api/v1/namespaces/{ns}/pods?labelSelector=…: the pool's pods, their readiness.</summary>
    public static readonly KubernetesApiCall ListPods = new("list", "", "pods", ByName: false);

    /// <summary>PATCH /api/v1/namespaces/{ns}/pods/{name} (merge patch): the rotation label, the deletion cost.</summary>
    public static readonly KubernetesApiCall PatchPod = new("patch", "", "pods", ByName: false);

    public static IReadOnlyList<KubernetesApiCall> All { get; } = [ReadScale, PatchScale, ListPods, PatchPod];
}
