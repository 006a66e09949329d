using Grpc.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansControl.Gateway.Errors;
using OrleansControl.Gateway.Hosting;

namespace OrleansControl.Gateway.Security;

/// <summary>
/// Authentication check and the authorization rules of docs/gateway.md, applied per call. Refusals are logged with
/// the caller's subject, role and the rule, never with a token or certificate.
/// </summary>
internal sealed partial class GatewayAuthorizer(IOptions<GatewayOptions> options, ILogger<GatewayAuthorizer> logger)
{
    private static readonly Caller DevelopmentCaller = new("anonymous", Caller.AllRoles, "none") { IsDevelopmentAnonymous = true };

    /// <summary>The caller, or UNAUTHENTICATED. A presented credential that fails is never downgraded to anonymous.</summary>
    public Caller Authenticate(ServerCallContext context) => Authenticate(context.GetHttpContext(), context.Method);

    /// <summary>The same check for a plain HTTP endpoint (the web view), <paramref name="method"/> naming it in logs.</summary>
    public Caller Authenticate(HttpContext http, string method)
    {
        var caller = Caller.FromPrincipal(http.User);
        if (caller is not null && caller.Roles.Count > 0) return caller;

        var presented = http.Request.Headers.Authorization.Count > 0 || http.Connection.ClientCertificate is not null;
        if (caller is null && !presented && options.Value.AnonymousAllowed) return DevelopmentCaller;

        var reason = caller is not null ? "credential carries no known role"
            : presented ? "credential rejected" : "no credential";
        LogUnauthenticated(method, reason, http.Connection.RemoteIpAddress?.ToString() ?? "?");
        throw GatewayErrors.Unauthenticated("authentication required: present a trusted client certificate or a valid bearer token");
    }

    /// <summary>The caller must hold one of <paramref name="roles"/>.</summary>
    public void RequireRole(Caller caller, ServerCallContext context, string rule, params string[] roles)
    {
        if (roles.Any(caller.Roles.Contains)) return;
        Deny(caller, context, rule);
    }

    /// <summary>Operators and peers see every connection; a sidecar only the ones it owns.</summary>
    public void RequireOwnerOrOperator(Caller caller, ServerCallContext context, string? ownerSidecarId, string connectionId)
    {
        if (caller.IsOperator || caller.IsPeer || caller.IsDevelopmentAnonymous) return;
        if (caller.IsSidecar && string.Equals(ownerSidecarId, caller.Subject, StringComparison.Ordinal)) return;
        Deny(caller, context, $"connection '{connectionId}' belongs to another sidecar");
    }

    public void Deny(Caller caller, ServerCallContext context, string rule)
    {
        LogDenied(context.Method, caller.Subject, string.Join(',', caller.Roles), rule);
        throw GatewayErrors.PermissionDenied($"permission denied: {rule}");
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Unauthenticated call to {Method} refused: {Reason} (from {Remote})")]
    private partial void LogUnauthenticated(string method, string reason, string remote);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Call to {Method} by {Subject} ({Roles}) refused: {Rule}")]
    private partial void LogDenied(string method, string subject, string roles, string rule);
}
