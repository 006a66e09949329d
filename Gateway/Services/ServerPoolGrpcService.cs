using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Logging;
using OrleansControl.Contract.V1;
using OrleansControl.Gateway.Errors;
using OrleansControl.Gateway.Regions;
using OrleansControl.Gateway.Security;
using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Errors;
using OrleansControl.GrainInterfaces.Models;
using static OrleansControl.Gateway.Services.RequestValidation;
using ServerInstance = OrleansControl.Contract.V1.ServerInstance;

namespace OrleansControl.Gateway.Services;

/// <summary>Server pool administration (operators) and assignment (operators and the peer controller): <see cref="GatewayPolicies"/>.</summary>
internal sealed partial class ServerPoolGrpcService(
    IClusterClient cluster,
    PeerLink peer,
    PeerOutbox peerOutbox,
    PeerAssignments peerPools,
    ILogger<ServerPoolGrpcService> logger) : ServerPoolService.ServerPoolServiceBase
{
    public const int MaxCapacity = 100_000;

    private IServerPoolGrain Pool(string id) => cluster.GetGrain<IServerPoolGrain>(id);

    [Authorize(Policy = GatewayPolicies.Operator)]
    public override async Task<AddServerResponse> AddServer(AddServerRequest request, ServerCallContext context)
    {
        var pool = Id(request.ServerPool, "server_pool");
        if (request.Server is not { } s) throw GatewayErrors.InvalidArgument("server", "is required");
        var serverId = Id(s.ServerId, "server.server_id");
        var address = Address(s.Address, "server.address");
        var zone = Id(s.Zone, "server.zone");
        if (s.Capacity is < 1 or > MaxCapacity) throw GatewayErrors.InvalidArgument("server.capacity", $"must be between 1 and {MaxCapacity}");

        // Same id, another address or zone, while connections are on it: they would silently be somewhere else.
        // Capacity may change; moving the server waits until it carries nothing. (The peer's mirror updates the pool
        // grain directly: the owning region's word stands there.)
        var existing = (await Pool(pool).GetSnapshot()).Servers.FirstOrDefault(x => x.ServerId == serverId);
        if (existing is { Load: > 0 } && existing.Address != address) throw new ServerInUseException(pool, serverId, "address", existing.Load);
        if (existing is { Load: > 0 } && existing.Zone != zone) throw new ServerInUseException(pool, serverId, "zone", existing.Load);
        var instance = await Pool(pool).AddOrUpdateServer(new ServerDefinition(serverId, address, zone, s.Capacity));
        return new AddServerResponse { Server = instance.ToProto() };
    }

    [Authorize(Policy = GatewayPolicies.Operator)]
    public override async Task<RemoveServerResponse> RemoveServer(RemoveServerRequest request, ServerCallContext context)
    {
        var pool = Id(request.ServerPool, "server_pool");
        var serverId = Id(request.ServerId, "server_id");
        await Pool(pool).RemoveServer(serverId);
        return new RemoveServerResponse();
    }

    [Authorize(Policy = GatewayPolicies.OperatorOrPeer)]
    public override async Task<ListServersResponse> ListServers(ListServersRequest request, ServerCallContext context)
    {
        var pool = Id(request.ServerPool, "server_pool");
        // Bank side, link down: a server the scheme wrote to its Redis replica since our mirror's last refresh is listed
        // as the scheme wrote it, marked replica_read (and the mirror has taken its health).
        var fromReplica = peer.IsDown ? await peerPools.RefreshMirrorFromReplicaAsync(pool, context.CancellationToken) : [];
        var snapshot = await Pool(pool).GetSnapshot();
        var response = new ListServersResponse();
        response.Servers.AddRange(snapshot.Servers.Select(x => fromReplica.FirstOrDefault(r => r.ServerId == x.ServerId) ?? x.ToProto()));
        return response;
    }

    [Authorize(Policy = GatewayPolicies.OperatorOrPeer)]
    public override async Task<AssignServerResponse> AssignServer(AssignServerRequest request, ServerCallContext context)
    {
        var pool = Id(request.ServerPool, "server_pool");
        var connectionId = Id(request.ConnectionId, "connection_id");
        var clientId = Id(request.ClientId, "client_id");
        var preferred = OptionalId(request.PreferredServer, "preferred_server");
        if (preferred is not null && !(await Pool(pool).GetSnapshot()).Servers.Any(x => x.ServerId == preferred))
            throw new ServerNotFoundException(pool, preferred);
        var assignment = await Pool(pool).Assign(new AssignmentRequest(connectionId, clientId, preferred));
        var server = (await Pool(pool).GetSnapshot()).Servers.FirstOrDefault(x => x.ServerId == assignment.ServerId);
        return new AssignServerResponse
        {
            Server = server?.ToProto() ?? new ServerInstance { ServerId = assignment.ServerId, Address = assignment.Address, Zone = assignment.Zone, Healthy = true },
        };
    }

    [Authorize(Policy = GatewayPolicies.OperatorOrPeer)]
    public override async Task<SetServerHealthResponse> SetServerHealth(SetServerHealthRequest request, ServerCallContext context)
    {
        var caller = GatewayAuthorizer.Caller(context);
        var pool = Id(request.ServerPool, "server_pool");
        var serverId = Id(request.ServerId, "server_id");
        var health = DefinedEnum(request.Health, "health", allowUnspecified: false);
        var reason = Text(request.Reason, "reason", required: false);
        if (reason.Length == 0) reason = $"server {serverId} marked {health} by {caller.Subject}";

        var response = new SetServerHealthResponse();
        var before = (await Pool(pool).GetSnapshot()).Servers.FirstOrDefault(x => x.ServerId == serverId);
        if (before is null)
        {
            // Relayed by the peer for a server this region never mirrored: no connection of ours is on it.
            if (caller.IsPeer) return response;
            throw new ServerNotFoundException(pool, serverId);
        }
        var target = health switch
        {
            Contract.V1.ServerHealth.Healthy => GrainInterfaces.Models.ServerHealth.Healthy,
            Contract.V1.ServerHealth.Degraded => GrainInterfaces.Models.ServerHealth.Degraded,
            _ => GrainInterfaces.Models.ServerHealth.Unhealthy,
        };
        // The pool grain evacuates a server that turns unhealthy (each connection fails over, conditionally on still
        // being there); the answer says how many connections that concerned.
        response.Server = (await Pool(pool).SetServerHealth(serverId, target)).ToProto();
        if (target == GrainInterfaces.Models.ServerHealth.Unhealthy && before.Health != GrainInterfaces.Models.ServerHealth.Unhealthy)
        {
            response.FailoversRequested = before.Load;
        }

        // The scheme side tells the bank side (not back again when the change came from the peer).
        if (peer.Configured && !caller.IsPeer)
        {
            if (peer.IsDown)
            {
                // Known down: queue at once; the sync service replays it the moment the link is back.
                await peerOutbox.QueueAsync(request);
                return response;
            }
            try
            {
                // The operator waits on this: a black-holed peer costs one short deadline, then the outbox carries it.
                await peer.CallAsync("SetServerHealth", o => peer.Pools!.SetServerHealthAsync(request, o).ResponseAsync, PeerCallKind.Quick, context.CancellationToken);
            }
            catch (PeerUnavailableException e)
            {
                LogRelayFailed(serverId, e.Message);
                await peerOutbox.QueueAsync(request);
            }
        }
        return response;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Server {ServerId} health not relayed to the peer region yet (queued): {Why}")]
    private partial void LogRelayFailed(string serverId, string why);

    /// <summary>host:port with a port in 1..65535.</summary>
    internal static string Address(string? value, string field)
    {
        if (string.IsNullOrEmpty(value)) throw GatewayErrors.InvalidArgument(field, "is required");
        var colon = value.LastIndexOf(':');
        if (value.Length > 255 || colon <= 0 || !int.TryParse(value.AsSpan(colon + 1), out var port) || port is < 1 or > 65535
            || Uri.CheckHostName(value[..colon].Trim('[', ']')) == UriHostNameType.Unknown)
        {
            throw GatewayErrors.InvalidArgument(field, "must be host:port with a port between 1 and 65535");
        }
        return value;
    }
}
