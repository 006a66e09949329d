using System.Text;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Grpc.JsonTranscoding;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace OrleansControl.Gateway.Security;

/// <summary>
/// How a refused policy is answered, in the form the endpoint speaks: a gRPC call gets UNAUTHENTICATED or
/// PERMISSION_DENIED with the rule in its status message (a trailers-only response, as a refusal from inside the
/// method would be); a REST call (JSON transcoding) 401 or 403 with transcoding's <c>{code, message, details}</c>
/// body; the web view problem details. Each refusal is logged with the method, and the subject and roles or the
/// reason authentication failed.
/// </summary>
internal sealed partial class GatewayAuthorizationResultHandler(ILogger<GatewayAuthorizationResultHandler> logger) : IAuthorizationMiddlewareResultHandler
{
    public const string AuthenticationRequired = "authentication required: present a trusted client certificate or a valid bearer token";

    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult result)
    {
        if (result.Succeeded)
        {
            await _default.HandleAsync(next, context, policy, result);
            return;
        }

        var endpoint = context.GetEndpoint();
        var grpc = endpoint?.Metadata.GetMetadata<GrpcMethodMetadata>();
        var method = grpc?.Method.Name ?? context.Request.Path.Value ?? "?";
        StatusCode code;
        string message;
        if (result.Challenged || Caller.FromPrincipal(context.User) is null)
        {
            code = StatusCode.Unauthenticated;
            message = AuthenticationRequired;
            var failure = context.Features.Get<IAuthenticateResultFeature>()?.AuthenticateResult?.Failure;
            LogUnauthenticated(method, failure is null ? "no credential" : $"credential rejected ({failure.Message})",
                context.Connection.RemoteIpAddress?.ToString() ?? "?");
        }
        else
        {
            code = StatusCode.PermissionDenied;
            var rule = result.AuthorizationFailure?.FailedRequirements.OfType<CallerRoleRequirement>().FirstOrDefault()?.Rule ?? "not allowed";
            if (grpc is not null) rule = $"{method} {rule}";
            message = $"permission denied: {rule}";
            var caller = Caller.FromPrincipal(context.User)!;
            LogDenied(method, caller.Subject, string.Join(',', caller.Roles), rule);
        }

        if (endpoint?.Metadata.GetMetadata<GrpcJsonTranscodingMetadata>() is not null)
        {
            context.Response.StatusCode = code == StatusCode.Unauthenticated ? StatusCodes.Status401Unauthorized : StatusCodes.Status403Forbidden;
            await context.Response.WriteAsJsonAsync(new { code = (int)code, message, details = Array.Empty<object>() });
        }
        else if (grpc is not null)
        {
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = "application/grpc";
            context.Response.Headers["grpc-status"] = ((int)code).ToString(System.Globalization.CultureInfo.InvariantCulture);
            context.Response.Headers["grpc-message"] = PercentEncode(message);
        }
        else
        {
            var unauthenticated = code == StatusCode.Unauthenticated;
            await Results.Problem(
                statusCode: unauthenticated ? StatusCodes.Status401Unauthorized : StatusCodes.Status403Forbidden,
                title: unauthenticated ? "authentication required" : "permission denied",
                detail: unauthenticated ? AuthenticationRequired : message["permission denied: ".Length..]).ExecuteAsync(context);
        }
    }

    /// <summary>grpc-message is percent-encoded UTF-8 (gRPC over HTTP/2, "Responses").</summary>
    private static string PercentEncode(string message)
    {
        var sb = new StringBuilder(message.Length);
        foreach (var b in Encoding.UTF8.GetBytes(message))
        {
            if (b is >= 0x20 and <= 0x7E && b != (byte)'%') sb.Append((char)b);
            else sb.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }

    [LoggerMessage(EventId = 3000, Level = LogLevel.Warning, Message = "Unauthenticated call to {Method} refused: {Reason} (from {Remote})")]
    private partial void LogUnauthenticated(string method, string reason, string remote);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "Call to {Method} by {Subject} ({Roles}) refused: {Rule}")]
    private partial void LogDenied(string method, string subject, string roles, string rule);
}
