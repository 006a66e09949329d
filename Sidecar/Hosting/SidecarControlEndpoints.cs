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
    public static RouteGroupBuilder MapSidecarControl(this IEndpointRouteBuilder app, string prefix = "/control")
    {
        var group = app.MapGroup(prefix);
        group.MapGet("/status", (SidecarAgent agent) => Results.Ok(agent.Status()));

        group.MapPost("/drain", async (IsoClient link, DrainRequest? body, CancellationToken ct) =>
        {
            if (body?.DeadlineMs is < 0 or > 600_000)
            {
                return Results.Problem("deadlineMs must be 0..600000", statusCode: StatusCodes.Status400BadRequest);
            }

            var deadline = body?.DeadlineMs is { } ms ? TimeSpan.FromMilliseconds(ms) : (TimeSpan?)null;
            var unanswered = await link.DrainAsync(deadline, ct).ConfigureAwait(false);
            return Results.Ok(new { state = link.State, unanswered });
        });

        group.MapPost("/failover", async (IsoClient link, SidecarAgent agent, FailoverRequest? body, CancellationToken ct) =>
        {
            if (body?.Server is { Length: > 0 } server)
            {
                if (!IsoEndpoint.TryParse(server, out _))
                {
                    return Results.Problem("server must be host:port", statusCode: StatusCodes.Status400BadRequest);
                }

                return await ConnectAsync(link, server, ct).ConfigureAwait(false);
            }

            try
            {
                var target = await agent.RequestFailoverAsync(body?.Reason is { Length: > 0 } r ? r : "manual failover from the local control endpoint", ct).ConfigureAwait(false);
                return Results.Accepted(value: new { requested = true, target });
            }
            catch (InvalidOperationException)
            {
                return Results.Problem("no controller configured: give a server to fail over to", statusCode: StatusCodes.Status400BadRequest);
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.FailedPrecondition)
            {
                // The controller decided (e.g. no failover target): a definite answer, not a reason to retry.
                return Results.Problem($"controller refused: {ex.Status.Detail}", statusCode: StatusCodes.Status409Conflict);
            }
            catch (RpcException ex)
            {
                return Results.Problem($"controller refused or unreachable: {ex.StatusCode}", statusCode: StatusCodes.Status503ServiceUnavailable);
            }
        });

        group.MapPost("/connect", async (IsoClient link, FailoverRequest? body, CancellationToken ct) =>
        {
            var server = body?.Server is { Length: > 0 } s ? s : link.Server;
            if (server is null || !IsoEndpoint.TryParse(server, out _))
            {
                return Results.Problem("server must be host:port", statusCode: StatusCodes.Status400BadRequest);
            }

            return await ConnectAsync(link, server, ct).ConfigureAwait(false);
        });

        return group;
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
            return Results.Problem($"could not sign on to {server}: {ex.Message}", statusCode: StatusCodes.Status502BadGateway);
        }
    }
}
