namespace OrleansControl.Gateway.Security;

/// <summary>
/// The roles a credential carries: a client certificate's OU or a configured bearer token's. Who may call what with
/// them is <see cref="GatewayPolicies"/>.
/// </summary>
public static class GatewayRoles
{
    /// <summary>A sidecar: reports for, and receives commands about, only its own connections.</summary>
    public const string Sidecar = "sidecar";

    /// <summary>A person or tool operating the control plane: may change state by hand.</summary>
    public const string Operator = "operator";

    /// <summary>The other region's controller (mutual TLS only): SyncState, cross-region failover, assignments.</summary>
    public const string Peer = "peer";

    /// <summary>A person who watches: reads the web view (docs/ui.md), calls nothing of the contract.</summary>
    public const string Viewer = "viewer";

    internal static bool IsKnown(string role) => role is Sidecar or Operator or Peer or Viewer;
}
