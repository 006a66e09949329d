using System.Net;

namespace OrleansControl.Grains.Kubernetes;

/// <summary>
/// A Kubernetes API request that did not succeed, after the retries it was allowed. Names the request and its object,
/// the HTTP status (null: timeout or no response) and the API server's reason; never a credential.
/// </summary>
public sealed class KubernetesActionException : Exception
{
    public KubernetesActionException(KubernetesApiCall call, string target, HttpStatusCode? status, string reason, int attempts, Exception? inner = null)
        : base($"{call} {target}: {(status is { } s ? $"{(int)s} {s}" : "no response")} after {attempts} attempt(s): {reason}", inner)
    {
        Call = call;
        Target = target;
        Status = status;
        Attempts = attempts;
    }

    public KubernetesApiCall Call { get; }

    public string Target { get; }

    public HttpStatusCode? Status { get; }

    public int Attempts { get; }
}
