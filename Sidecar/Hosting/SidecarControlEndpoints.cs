using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using OrleansControl.Sidecar.Agent;
using OrleansControl.Sidecar.Client;
using OrleansControl.Sidecar.Connections;

namespace OrleansControl.Sidecar.Hosting;

/// <summary>Body of POST /control/drain; both fields optional.</summary>
public sealed record DrainRequest(int? DeadlineMs);

/// <summary>Body of POST /control/failover: a server to move to, or none to ask the controller for one.</summary>
public sealed record FailoverRequest(string? Server, string? Reason);

/// <summary>
/// The local control endpoint for the application in the same pod (bind it to localhost):
/// GET status, POST drain, POST failover, POST connect (resume after a drain).
/// </summary>
public static class SidecarControlEndpoints
{
    /// <summary>At most this many characters of reason are passed to the controller (its own limit).</summary>
    public const int MaxReasonLength = 512;

    public static RouteGroupBuilder MapSidecarControl(this IEndpointRouteBuilder app, string prefix = "/control")
    {
        var group = app.MapGroup(prefix);
        group.MapGet("/status", (SidecarAgent agent) => Results.Ok(agent.Status()));

        group.MapPost("/drain", async (IsoClient link, HttpRequest request, CancellationToken ct) =>
        {
            var (body, problem) = await ControlRequestBody.ReadAsync<DrainRequest>(request, ct).ConfigureAwait(false);
            if (problem is not null)
            {
                return problem;
            }

            if (body?.DeadlineMs is < 0 or > 600_000)
            {
                return ControlRequestBody.BadRequest($"deadlineMs: must be 0..600000 (was {body.DeadlineMs})");
            }

            var deadline = body?.DeadlineMs is { } ms ? TimeSpan.FromMilliseconds(ms) : (TimeSpan?)null;
            var unanswered = await link.DrainAsync(deadline, ct).ConfigureAwait(false);
            return Results.Ok(new { state = link.State, unanswered });
        });

        group.MapPost("/failover", async (IsoClient link, SidecarAgent agent, HttpRequest request, CancellationToken ct) =>
        {
            var (body, problem) = await ControlRequestBody.ReadAsync<FailoverRequest>(request, ct).ConfigureAwait(false);
            if ((problem ?? Check(body)) is { } bad)
            {
                return bad;
            }

            if (body?.Server is { Length: > 0 } server)
            {
                return await ConnectAsync(link, server, ct).ConfigureAwait(false);
            }

            try
            {
                var target = await agent.RequestFailoverAsync(body?.Reason is { Length: > 0 } r ? r : "manual failover from the local control endpoint", ct).ConfigureAwait(false);
                return Results.Accepted(value: new { requested = true, target });
            }
            catch (InvalidOperationException)
            {
                return ControlRequestBody.BadRequest("server: required here, as no controller is configured to choose one");
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.FailedPrecondition)
            {
                // The controller's verdict (e.g. "no failover target: …"): the link stays where it is.
                return Results.Problem($"controller refused: {Truncate(ex.Status.Detail)}", statusCode: StatusCodes.Status409Conflict, title: "refused by the controller");
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.InvalidArgument)
            {
                return ControlRequestBody.BadRequest($"controller refused the request: {Truncate(ex.Status.Detail)}");
            }
            catch (RpcException ex)
            {
                return Results.Problem($"controller refused or unreachable: {ex.StatusCode}", statusCode: StatusCodes.Status503ServiceUnavailable, title: "controller unavailable");
            }
        });

        group.MapPost("/connect", async (IsoClient link, HttpRequest request, CancellationToken ct) =>
        {
            var (body, problem) = await ControlRequestBody.ReadAsync<FailoverRequest>(request, ct).ConfigureAwait(false);
            if ((problem ?? Check(body)) is { } bad)
            {
                return bad;
            }

            var server = body?.Server is { Length: > 0 } s ? s : link.Server;
            if (server is null)
            {
                return ControlRequestBody.BadRequest("server: required (host:port): the link has no server to resume to");
            }

            return await ConnectAsync(link, server, ct).ConfigureAwait(false);
        });

        // Every other path under the prefix: a problem too, not an empty 404.
        group.MapFallback((HttpRequest request) => Results.Problem(
            $"no control route {request.Method} {ControlRequestBody.Echo(request.Path.Value)}; routes: GET status, POST drain, failover, connect",
            statusCode: StatusCodes.Status404NotFound, title: "not found"));

        return group;
    }

    private static string Truncate(string text) => text.Length <= 300 ? text : text[..300] + "…";

    private static IResult? Check(FailoverRequest? body)
    {
        if (body?.Server is { Length: > 0 } server && !IsoEndpoint.TryParse(server, out _))
        {
            return ControlRequestBody.BadRequest($"server: must be host:port (was '{ControlRequestBody.Echo(server)}')");
        }

        if (body?.Reason is { Length: > MaxReasonLength } reason)
        {
            return ControlRequestBody.BadRequest($"reason: at most {MaxReasonLength} characters (was {reason.Length})");
        }

        return null;
    }

    private static async Task<IResult> ConnectAsync(IsoClient link, string server, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            await link.ConnectToAsync(server, timeout.Token).ConfigureAwait(false);
            return Results.Ok(new { state = link.State, server });
        }
        catch (Exception ex) when (ex is SidecarException or IOException or TimeoutException or System.Net.Sockets.SocketException or OperationCanceledException)
        {
            return Results.Problem($"could not sign on to {ControlRequestBody.Echo(server)}: {Truncate(ex.Message)}", statusCode: StatusCodes.Status502BadGateway, title: "sign-on failed");
        }
    }
}
