using System.Security.Claims;

namespace OrleansControl.Gateway.Security;

/// <summary>The authenticated caller of one request, read from the principal authentication made.</summary>
internal sealed record Caller(string Subject, IReadOnlySet<string> Roles, string AuthenticatedBy)
{
    /// <summary>The claim a development gateway's anonymous caller carries (<c>Gateway:Auth:AllowAnonymous</c>).</summary>
    public const string DevelopmentClaim = "orleanscontrol:development";

    /// <summary>What an anonymous development caller acts as: every role of the contract.</summary>
    public static readonly IReadOnlyList<string> DevelopmentRoles = [GatewayRoles.Sidecar, GatewayRoles.Operator, GatewayRoles.Peer];

    public bool IsOperator => Roles.Contains(GatewayRoles.Operator);

    public bool IsPeer => Roles.Contains(GatewayRoles.Peer);

    public bool IsSidecar => Roles.Contains(GatewayRoles.Sidecar);

    /// <summary>Anonymous development callers act as every role; their sidecar id is whatever they claim.</summary>
    public bool IsDevelopmentAnonymous { get; init; }

    /// <summary>Sees and acts on every connection: operators, the peer, a development caller (a sidecar only its own).</summary>
    public bool SeesEverything => IsOperator || IsPeer || IsDevelopmentAnonymous;

    /// <summary>Acts as a sidecar speaking for itself (not as an operator or a development caller who may name any sidecar).</summary>
    public bool ActsAsSidecar => IsSidecar && !IsOperator && !IsDevelopmentAnonymous;

    public static Caller? FromPrincipal(ClaimsPrincipal user)
    {
        if (user.Identity?.IsAuthenticated != true) return null;
        var subject = user.FindFirstValue(ClaimTypes.NameIdentifier) ?? user.Identity.Name ?? "";
        var roles = user.FindAll(ClaimTypes.Role).Select(c => c.Value).Where(GatewayRoles.IsKnown).ToHashSet();
        return new Caller(subject, roles, user.Identity.AuthenticationType ?? "") { IsDevelopmentAnonymous = user.HasClaim(DevelopmentClaim, "true") };
    }

    /// <summary>The principal of an anonymous caller on a development gateway.</summary>
    public static ClaimsPrincipal DevelopmentPrincipal(string scheme) => new(new ClaimsIdentity(
        [new Claim(ClaimTypes.NameIdentifier, "anonymous"), new Claim(DevelopmentClaim, "true"),
         .. DevelopmentRoles.Select(r => new Claim(ClaimTypes.Role, r))],
        scheme));
}
