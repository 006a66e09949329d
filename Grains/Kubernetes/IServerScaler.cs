namespace OrleansControl.Grains.Kubernetes;

/// <summary>A pool Deployment's scale subresource: desired replicas and the label selector of its pods.</summary>
public sealed record DeploymentScale(string Deployment, int Replicas, string Selector);

/// <summary>A pod of a pool's Deployment as the actions need it. Its name is its server's id in the pool.</summary>
public sealed record ServerPod(string Name, string? PodIp, bool Ready, bool Terminating, bool InRotation, DateTimeOffset? Created = null);

/// <summary>
/// Scales a pool's Deployment through its scale subresource and reads its pods. Every call is safe to repeat (reads,
/// and merge patches that set absolute values), so implementations retry transient API errors; what they cannot do
/// ends in a <see cref="KubernetesActionException"/>.
/// </summary>
public interface IServerScaler
{
    Task<DeploymentScale> ReadScaleAsync(string deployment, CancellationToken cancellationToken);

    Task ScaleAsync(string deployment, int replicas, CancellationToken cancellationToken);

    Task<IReadOnlyList<ServerPod>> ListPodsAsync(string selector, CancellationToken cancellationToken);

    /// <summary>Asks the ReplicaSet to remove this pod first on the next scale-down (pod deletion cost).</summary>
    Task MarkForRemovalAsync(string pod, CancellationToken cancellationToken);
}

/// <summary>Takes a pod out of its Service's rotation (its rotation label says <c>out</c>) or puts it back.</summary>
public interface IPodRotation
{
    Task SetRotationAsync(string pod, bool inRotation, CancellationToken cancellationToken);
}
