using Microsoft.AspNetCore.Authorization;

namespace OrleansControl.Gateway.Security;

/// <summary>
/// Who may call what, in one table (docs/gateway.md shows the same). Each RPC carries <c>[Authorize(Policy = …)]</c>
/// naming one of the role policies; REST under /api/v1 is JSON transcoding of the same methods, so it carries the same
/// metadata. What depends on the resource (whose connection, which region, which pool) is one of the requirements at
/// the end, checked through <see cref="IAuthorizationService"/> once the service has read the resource
/// (<see cref="GatewayAuthorizer"/>). Refusals: UNAUTHENTICATED / PERMISSION_DENIED (REST 401 / 403), written by
/// <see cref="GatewayAuthorizationResultHandler"/>.
/// </summary>
public static class GatewayPolicies
{
    /// <summary>Attach.</summary>
    public const string Sidecar = "sidecar";

    /// <summary>RegisterConnection, ReportHealth (then: the owning sidecar, <see cref="OwningSidecarOrOperator"/>).</summary>
    public const string SidecarOrOperator = "sidecar-or-operator";

    /// <summary>UpdateConnectionState, AddServer, RemoveServer.</summary>
    public const string Operator = "operator";

    /// <summary>SyncState and RelaySessions (then: only its own region, <see cref="Self"/>); a cross-region RequestFailover.</summary>
    public const string Peer = "peer";

    /// <summary>ListServers, AssignServer, SetServerHealth; another region's connections.</summary>
    public const string OperatorOrPeer = "operator-or-peer";

    /// <summary>GetConnection, ListConnections, WatchConnections, RequestFailover (a sidecar then only its own connections).</summary>
    public const string AnyContractRole = "sidecar-operator-or-peer";

    /// <summary>The web view's API (docs/ui.md): the whole registry.</summary>
    public const string RegistryViewer = "registry-viewer";

    /// <summary>Orleans' dashboard under /ui/dashboard.</summary>
    public const string Dashboard = "dashboard";

    /// <summary>The sidecar the resource belongs to, or whoever sees every connection (operators, the peer).</summary>
    internal static readonly OwnerRequirement OwningSidecarOrOperator = new(SeesEverything: true);

    /// <summary>Exactly the identity the resource names (a sidecar attaching as itself, the peer syncing its own region).</summary>
    internal static readonly OwnerRequirement Self = new(SeesEverything: false);

    /// <summary>A server-mode sidecar declaring its server into a pool: only pools <c>Gateway:Auth:ServerPools</c> grants it.</summary>
    internal static readonly ServerPoolDeclarationRequirement DeclareServer = new("declare servers into");

    /// <summary>
    /// A server-mode sidecar reporting the sessions of a server of a pool: the same grants (a server it declared on its
    /// stream also counts, SidecarSession.OnSessionReport).
    /// </summary>
    internal static readonly ServerPoolDeclarationRequirement ReportSessions = new("report sessions of servers in");

    internal static void Add(AuthorizationOptions o)
    {
        Role(o, Sidecar, "is for sidecars", GatewayRoles.Sidecar);
        Role(o, SidecarOrOperator, "needs a sidecar or an operator", GatewayRoles.Sidecar, GatewayRoles.Operator);
        Role(o, Operator, "needs an operator", GatewayRoles.Operator);
        Role(o, Peer, "needs the peer controller", GatewayRoles.Peer);
        Role(o, OperatorOrPeer, "needs an operator or the peer controller", GatewayRoles.Operator, GatewayRoles.Peer);
        Role(o, AnyContractRole, "needs a sidecar, an operator or the peer controller", GatewayRoles.Sidecar, GatewayRoles.Operator, GatewayRoles.Peer);
        Role(o, RegistryViewer,
            "the web view shows the whole registry: it needs an operator, viewer or peer credential (a sidecar's sees only its own connections)",
            GatewayRoles.Operator, GatewayRoles.Viewer, GatewayRoles.Peer);
        Role(o, Dashboard, "the Orleans dashboard is for operators", GatewayRoles.Operator);
    }

    private static void Role(AuthorizationOptions o, string name, string rule, params string[] roles) =>
        o.AddPolicy(name, p => p.AddRequirements(new CallerRoleRequirement(rule, roles)));
}

/// <summary>
/// The caller holds one of <paramref name="Roles"/>. <paramref name="Rule"/> is the refusal's wording: after the RPC's
/// name for a call of the contract ("UpdateConnectionState needs an operator"), alone for the web view.
/// </summary>
internal sealed record CallerRoleRequirement(string Rule, IReadOnlyList<string> Roles) : IAuthorizationRequirement;

/// <summary>See <see cref="GatewayPolicies.OwningSidecarOrOperator"/> and <see cref="GatewayPolicies.Self"/>.</summary>
internal sealed record OwnerRequirement(bool SeesEverything) : IAuthorizationRequirement;

/// <summary>What an <see cref="OwnerRequirement"/> is checked against: its owner, and the refusal naming it.</summary>
internal sealed record OwnedResource(string? Owner, string Refusal);

/// <summary>See <see cref="GatewayPolicies.DeclareServer"/>; the resource is the pool's id. <paramref name="Act"/> words the refusal.</summary>
internal sealed record ServerPoolDeclarationRequirement(string Act) : IAuthorizationRequirement;
