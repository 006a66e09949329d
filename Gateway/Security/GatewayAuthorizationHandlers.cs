using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using OrleansControl.Gateway.Hosting;

namespace OrleansControl.Gateway.Security;

/// <summary>The caller holds one of the requirement's roles (a development caller holds every contract role).</summary>
internal sealed class CallerRoleHandler : AuthorizationHandler<CallerRoleRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, CallerRoleRequirement requirement)
    {
        if (Caller.FromPrincipal(context.User) is { } caller && requirement.Roles.Any(caller.Roles.Contains)) context.Succeed(requirement);
        return Task.CompletedTask;
    }
}

/// <summary>
/// The one rule "the sidecar that owns this connection, or an operator": the caller's identity is the resource's owner,
/// or (for <see cref="OwnerRequirement.SeesEverything"/>) the caller sees everything. A development caller passes.
/// </summary>
internal sealed class OwnerHandler : AuthorizationHandler<OwnerRequirement, OwnedResource>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, OwnerRequirement requirement, OwnedResource resource)
    {
        if (Caller.FromPrincipal(context.User) is not { } caller) return Task.CompletedTask;
        if (caller.IsDevelopmentAnonymous || (requirement.SeesEverything && caller.SeesEverything)
            || string.Equals(resource.Owner, caller.Subject, StringComparison.Ordinal))
        {
            context.Succeed(requirement);
        }
        else
        {
            context.Fail(new AuthorizationFailureReason(this, resource.Refusal));
        }
        return Task.CompletedTask;
    }
}

/// <summary>
/// A sidecar declares its server only into a pool <c>Gateway:Auth:ServerPools</c> grants its identity (an entry ending
/// in <c>*</c> grants every pool starting so), and reports sessions only of servers in such a pool; a development caller
/// into and of any.
/// </summary>
internal sealed class ServerPoolDeclarationHandler(IOptionsMonitor<GatewayOptions> options)
    : AuthorizationHandler<ServerPoolDeclarationRequirement, string>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ServerPoolDeclarationRequirement requirement, string pool)
    {
        if (Caller.FromPrincipal(context.User) is not { } caller) return Task.CompletedTask;
        if (caller.IsDevelopmentAnonymous || Allows(options.CurrentValue.Auth.ServerPools, caller.Subject, pool))
            context.Succeed(requirement);
        else
            context.Fail(new AuthorizationFailureReason(this,
                $"sidecar '{caller.Subject}' may not {requirement.Act} pool '{pool}' (Gateway:Auth:ServerPools grants it {Granted(options.CurrentValue.Auth.ServerPools, caller.Subject)})"));
        return Task.CompletedTask;
    }

    internal static bool Allows(IEnumerable<ServerPoolGrantOptions> grants, string sidecar, string pool) =>
        grants.Where(g => g.Sidecar == sidecar).SelectMany(g => g.Pools).Any(p =>
            p.EndsWith('*') ? pool.StartsWith(p[..^1], StringComparison.Ordinal) : p == pool);

    private static string Granted(IEnumerable<ServerPoolGrantOptions> grants, string sidecar)
    {
        var pools = grants.Where(g => g.Sidecar == sidecar).SelectMany(g => g.Pools).ToList();
        return pools.Count == 0 ? "no pool" : string.Join(", ", pools.Select(p => $"'{p}'"));
    }
}
