using System.Security.Claims;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Logging;
using OrleansControl.Gateway.Errors;

namespace OrleansControl.Gateway.Security;

/// <summary>
/// The checks a service makes once it knows the resource (the connection's owner, the region, the pool), through
/// <see cref="IAuthorizationService"/> with the requirements of <see cref="GatewayPolicies"/>. A refusal is
/// PERMISSION_DENIED naming the rule, logged with the caller's subject and roles (never a token or certificate).
/// Who may call a method at all is its <c>[Authorize(Policy = …)]</c>, decided before the method runs.
/// </summary>
internal sealed partial class GatewayAuthorizer(IAuthorizationService authorization, ILogger<GatewayAuthorizer> logger)
{
    /// <summary>The caller the method's policy admitted.</summary>
    public static Caller Caller(ServerCallContext context) =>
        Security.Caller.FromPrincipal(context.GetHttpContext().User)
        ?? throw GatewayErrors.Unauthenticated(GatewayAuthorizationResultHandler.AuthenticationRequired);

    /// <summary>The caller must be the resource's owner (or, with <see cref="GatewayPolicies.OwningSidecarOrOperator"/>, see everything).</summary>
    public Task RequireAsync(ServerCallContext context, OwnerRequirement requirement, string? owner, string refusal) =>
        RequireAsync(context.GetHttpContext().User, context.Method, new OwnedResource(owner, refusal), requirement);

    /// <summary>A role policy of the table applied to a case the request only reveals in its body (<paramref name="what"/> names it).</summary>
    public async Task RequirePolicyAsync(ServerCallContext context, string policy, string what)
    {
        var user = context.GetHttpContext().User;
        var result = await authorization.AuthorizeAsync(user, policy);
        if (result.Succeeded) return;
        var rule = result.Failure?.FailedRequirements.OfType<CallerRoleRequirement>().FirstOrDefault()?.Rule ?? "is not allowed";
        throw Denied(user, context.Method, $"{what} {rule}");
    }

    /// <summary>The check for a resource of any requirement; null when allowed, else the refusal's wording.</summary>
    public async Task<string?> RefusalAsync(ClaimsPrincipal user, object resource, IAuthorizationRequirement requirement)
    {
        var result = await authorization.AuthorizeAsync(user, resource, requirement);
        if (result.Succeeded) return null;
        return result.Failure?.FailureReasons.FirstOrDefault()?.Message ?? "not allowed";
    }

    public async Task RequireAsync(ClaimsPrincipal user, string method, object resource, IAuthorizationRequirement requirement)
    {
        if (await RefusalAsync(user, resource, requirement) is { } refusal) throw Denied(user, method, refusal);
    }

    /// <summary>Logs the refusal and makes the PERMISSION_DENIED to throw.</summary>
    public RpcException Denied(ClaimsPrincipal user, string method, string rule)
    {
        var caller = Security.Caller.FromPrincipal(user);
        LogDenied(method, caller?.Subject ?? "?", caller is null ? "" : string.Join(',', caller.Roles), rule);
        return GatewayErrors.PermissionDenied($"permission denied: {rule}");
    }

    [LoggerMessage(EventId = 3001, Level = LogLevel.Warning, Message = "Call to {Method} by {Subject} ({Roles}) refused: {Rule}")]
    private partial void LogDenied(string method, string subject, string roles, string rule);
}
