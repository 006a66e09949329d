using Grpc.Core;
using Microsoft.Extensions.Logging;
using OrleansControl.Contract.V1;
using OrleansControl.Gateway.Security;
using OrleansControl.Gateway.Services;
using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Errors;
using OrleansControl.GrainInterfaces.Models;

namespace OrleansControl.Gateway.Sidecars;

// Server mode: a scheme-side sidecar declares the server it stands beside, on every attach.
internal sealed partial class SidecarSession
{
    private async ValueTask OnServerRegistration(ServerRegistration registration)
    {
        if (options.Peer.OwnsServerPools && !string.IsNullOrEmpty(options.Peer.Address))
        {
            Reject("", StatusCode.FailedPrecondition,
                $"server_registration: the server pools are owned by region {options.Peer.Region}; attach the server's sidecar there");
            return;
        }
        ServerDefinition server;
        string pool;
        try
        {
            pool = RequestValidation.Id(registration.ServerPool, "server_registration.server_pool");
            server = new ServerDefinition(
                RequestValidation.Id(registration.ServerId, "server_registration.server_id"),
                ServerPoolGrpcService.Address(registration.Address, "server_registration.address"),
                RequestValidation.Id(registration.Zone, "server_registration.zone"),
                registration.Capacity is >= 1 and <= ServerPoolGrpcService.MaxCapacity ? registration.Capacity
                    : throw Errors.GatewayErrors.InvalidArgument("server_registration.capacity", $"must be between 1 and {ServerPoolGrpcService.MaxCapacity}"));
        }
        catch (RpcException e)
        {
            Reject("", e.StatusCode, e.Status.Detail); // bad input is answered on the stream; the stream goes on
            return;
        }
        // Only into a pool this sidecar's identity is granted (Gateway:Auth:ServerPools): refused on the stream, which
        // goes on (the sidecar's other reports are not at fault).
        if (await auth.RefusalAsync(context.GetHttpContext().User, pool, GatewayPolicies.DeclareServer) is { } refusal)
        {
            LogDeclarationRefused(sidecarId, pool, refusal);
            Reject("", StatusCode.PermissionDenied, $"permission denied: server_registration.server_pool: {refusal}");
            return;
        }
        try
        {
            await cluster.GetGrain<IServerPoolGrain>(pool).RegisterServer(server, sidecarId);
        }
        catch (ControlPlaneException e)
        {
            RejectMapped("", e);
        }
    }

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "Server declaration of sidecar {SidecarId} into pool {Pool} refused: {Rule}")]
    private partial void LogDeclarationRefused(string sidecarId, string pool, string rule);
}
