using System.Text.RegularExpressions;

namespace OrleansControl.Grains.Kubernetes;

public enum KubernetesConnection
{
    /// <summary>The pod's service account (the controller runs in the cluster whose Deployments it scales).</summary>
    InCluster,
    /// <summary>A kubeconfig file, e.g. mounted from a Secret, for acting on another cluster (the seed's cross-cluster access).</summary>
    Kubeconfig,
}

/// <summary>
/// Section <c>Controller:Kubernetes</c>: whether and how the controller acts on Kubernetes for its server pools
/// (scale a pool's Deployment, take a failed pod out of its Service's rotation). Off by default: nothing is called
/// unless <see cref="Enabled"/> and the pool is listed in <see cref="Pools"/>.
/// </summary>
public sealed partial class KubernetesOptions
{
    public bool Enabled { get; set; }

    public KubernetesConnection Connection { get; set; } = KubernetesConnection.InCluster;

    /// <summary>Required when <see cref="Connection"/> is kubeconfig.</summary>
    public string? KubeconfigPath { get; set; }

    /// <summary>The kubeconfig context to use (its current context when empty).</summary>
    public string? Context { get; set; }

    /// <summary>The namespace of the pools' Deployments and pods.</summary>
    public string Namespace { get; set; } = "";

    /// <summary>Log every action and send nothing to the API server (not even reads).</summary>
    public bool DryRun { get; set; }

    /// <summary>Pool id → its Deployment and bounds. Pools not listed here are never acted on.</summary>
    public Dictionary<string, PoolScalingOptions> Pools { get; set; } = new(StringComparer.Ordinal);

    /// <summary>How long a pool must stay over its need (see ScalingDecision) before it is scaled down by one.</summary>
    public TimeSpan ScaleDownDelay { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Deadline for a scale-up: a new pod Ready and its server registered in the pool.</summary>
    public TimeSpan ReadyTimeout { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>How often the wait for a new pod polls the pods and the pool.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How often a pool's scaler re-evaluates without a change from the pool (for the scale-down delay).</summary>
    public TimeSpan EvaluationInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>After a scale-up that failed or timed out, the next one waits this long (a broken image must not climb to max at once).</summary>
    public TimeSpan BackoffAfterFailure { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Timeout of one API request; a timed-out request is retried (every call here is safe to repeat).</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Retries of a retryable API error (409, 429, 5xx, timeout) after the first attempt.</summary>
    public int MaxRetries { get; set; } = 4;

    /// <summary>First retry delay; doubles with jitter. A 429's Retry-After wins when it says longer.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// The pod label a pool's Service selects on (value <c>in</c>); a failed server's pod gets <c>out</c>. The
    /// Deployment's own selector must not include it, or the ReplicaSet would replace the pod.
    /// </summary>
    public string RotationLabel { get; set; } = "orleanscontrol.io/rotation";

    /// <summary>Returns the first invalid setting with the problem (relative to the section), or null.</summary>
    public string? FindProblem()
    {
        if (!Enum.IsDefined(Connection))
            return "Connection must be incluster or kubeconfig";
        if (!Enabled)
            return null;
        if (Connection == KubernetesConnection.Kubeconfig)
        {
            if (string.IsNullOrWhiteSpace(KubeconfigPath))
                return "KubeconfigPath is required when Connection is kubeconfig";
            if (!File.Exists(KubeconfigPath))
                return $"KubeconfigPath '{KubeconfigPath}' does not exist";
        }
        else if (!string.IsNullOrWhiteSpace(KubeconfigPath))
        {
            return "KubeconfigPath is set but Connection is incluster (set Connection=kubeconfig to use it)";
        }
        if (!IsDnsLabel(Namespace))
            return $"Namespace must be a DNS label (was '{Namespace}')";
        if (Pools.Count == 0)
            return "Pools must name at least one pool (Pools:{poolId}:Deployment) when Enabled";
        foreach (var (poolId, pool) in Pools)
        {
            if (pool.FindProblem() is { } problem)
                return $"Pools:{poolId}:{problem}";
        }
        if (ScaleDownDelay < TimeSpan.FromSeconds(1))
            return $"ScaleDownDelay must be at least 1 second (was {ScaleDownDelay})";
        if (ReadyTimeout < TimeSpan.FromSeconds(1))
            return $"ReadyTimeout must be at least 1 second (was {ReadyTimeout})";
        if (PollInterval <= TimeSpan.Zero || PollInterval > ReadyTimeout)
            return $"PollInterval must be positive and at most ReadyTimeout (was {PollInterval})";
        if (EvaluationInterval < TimeSpan.FromMilliseconds(100))
            return $"EvaluationInterval must be at least 100 ms (was {EvaluationInterval})";
        if (BackoffAfterFailure < TimeSpan.Zero)
            return $"BackoffAfterFailure must not be negative (was {BackoffAfterFailure})";
        if (RequestTimeout < TimeSpan.FromMilliseconds(100))
            return $"RequestTimeout must be at least 100 ms (was {RequestTimeout})";
        if (MaxRetries is < 0 or > 20)
            return $"MaxRetries must be between 0 and 20 (was {MaxRetries})";
        if (RetryBaseDelay <= TimeSpan.Zero)
            return $"RetryBaseDelay must be positive (was {RetryBaseDelay})";
        if (string.IsNullOrWhiteSpace(RotationLabel) || !LabelKey().IsMatch(RotationLabel))
            return $"RotationLabel must be a label key like example.com/name (was '{RotationLabel}')";
        return null;
    }

    internal static bool IsDnsLabel(string? value) => value is { Length: > 0 and <= 63 } && DnsLabel().IsMatch(value);

    internal static bool IsDnsSubdomain(string? value) => value is { Length: > 0 and <= 253 } && DnsSubdomain().IsMatch(value);

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex DnsLabel();

    [GeneratedRegex(@"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex DnsSubdomain();

    [GeneratedRegex(@"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")]
    private static partial Regex LabelKey();
}

/// <summary>One pool's Deployment (its pods are the pool's servers: server id = pod name) and its replica bounds.</summary>
public sealed class PoolScalingOptions
{
    public string Deployment { get; set; } = "";

    /// <summary>Fewer healthy servers than this scales up; scale-down never goes below it.</summary>
    public int Min { get; set; } = 2;

    /// <summary>Scale-up never goes above it.</summary>
    public int Max { get; set; } = 4;

    public string? FindProblem()
    {
        if (!KubernetesOptions.IsDnsSubdomain(Deployment))
            return $"Deployment must be a Deployment name (was '{Deployment}')";
        if (Min < 1)
            return $"Min must be at least 1 (was {Min})";
        if (Max < Min)
            return $"Max must be at least Min (was {Max}, Min {Min})";
        if (Max > 1000)
            return $"Max must be at most 1000 (was {Max})";
        return null;
    }
}
