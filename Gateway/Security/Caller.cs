using System.Security.Claims;

namespace OrleansControl.Gateway.Security;

/// <summary>The authenticated caller of one request.</summary>
internal sealed record Caller(string Subject, IReadOnlySet<string> Roles, string AuthenticatedBy)
{
    public static readonly IReadOnlySet<string> AllRoles = new HashSet<string> { GatewayRoles.Sidecar, GatewayRoles.Operator, GatewayRoles.Peer };

    public bool IsOperator => Roles.Contains(GatewayRoles.Operator);

    public bool IsPeer => Roles.Contains(GatewayRoles.Peer);

    public bool IsSidecar => Roles.Contains(GatewayRoles.Sidecar);

    /// <summary>May read the whole registry in the web view: operators, the peer, viewers (not a sidecar alone).</summary>
    public bool MayView => IsOperator || IsPeer || IsDevelopmentAnonymous || Roles.Contains(GatewayRoles.Viewer);

    /// <summary>Anonymous development callers act as every role; their sidecar id is whatever they claim.</summary>
    public bool IsDevelopmentAnonymous { get; init; }

    public static Caller? FromPrincipal(ClaimsPrincipal user)
    {
        if (user.Identity?.IsAuthenticated != true) return null;
        var subject = user.FindFirstValue(ClaimTypes.NameIdentifier) ?? user.Identity.Name ?? "";
        var roles = user.FindAll(ClaimTypes.Role).Select(c => c.Value).Where(GatewayRoles.IsKnown).ToHashSet();
        return new Caller(subject, roles, user.Identity.AuthenticationType ?? "");
    }
}
