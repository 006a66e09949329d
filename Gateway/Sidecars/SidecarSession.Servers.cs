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
    // The servers this stream declared (pool, server id): it may report their sessions. Touched by the read loop only.
    private readonly HashSet<(string Pool, string ServerId)> _declared = [];

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
            _declared.Add((pool, server.ServerId));
        }
        catch (ControlPlaneException e)
        {
            RejectMapped("", e);
        }
    }

    /// <summary>
    /// A scheme server's sidecar reports only for a server it declared on this stream or one in a pool its identity is
    /// granted (Gateway:Auth:ServerPools; a development caller for any): otherwise the report is refused on the stream,
    /// which goes on, and nothing is written or relayed.
    /// </summary>
    private async ValueTask<bool> MayReportFor(string pool, string serverId)
    {
        if (_declared.Contains((pool, serverId))) return true;
        if (await auth.RefusalAsync(context.GetHttpContext().User, pool, GatewayPolicies.ReportSessions) is not { } refusal) return true;
        LogSessionReportRefused(sidecarId, pool, serverId, refusal);
        Reject("", StatusCode.PermissionDenied,
            $"permission denied: session_report: server '{serverId}' of pool '{pool}': {refusal}; it declared no such server on this stream");
        return false;
    }

    [LoggerMessage(EventId = 3243, Level = LogLevel.Warning, Message = "Session report of sidecar {SidecarId} for server {ServerId} of pool {Pool} refused: {Rule}")]
    private partial void LogSessionReportRefused(string sidecarId, string pool, string serverId, string rule);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "Server declaration of sidecar {SidecarId} into pool {Pool} refused: {Rule}")]
    private partial void LogDeclarationRefused(string sidecarId, string pool, string rule);
}
