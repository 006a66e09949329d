using Grpc.Core;
using OrleansControl.Contract.V1;
using OrleansControl.Gateway.Tests.Infrastructure;
using static OrleansControl.Gateway.Tests.Infrastructure.GatewayFixture;

namespace OrleansControl.Gateway.Tests;

[Collection(GatewayCollection.Name)]
public sealed class ServerPoolServiceTests(GatewayFixture f)
{
    [Fact]
    public async Task AddServer_then_ListServers_shows_it_with_its_load()
    {
        var pool = await f.CreatePoolAsync(capacityEach: 3);
        await f.RegisterAsync(pool, preferred: "srv-0");

        var list = await f.Pools.ListServersAsync(new ListServersRequest { ServerPool = pool }, Operator);

        Assert.Equal(["srv-0", "srv-1"], list.Servers.Select(s => s.ServerId).Order());
        var s0 = list.Servers.Single(s => s.ServerId == "srv-0");
        Assert.Equal(1, s0.Load);
        Assert.Equal(3, s0.Capacity);
        Assert.True(s0.Healthy);
    }

    [Fact]
    public async Task AssignServer_returns_the_same_server_for_the_same_connection_and_refuses_beyond_capacity()
    {
        var pool = await f.CreatePoolAsync(capacityEach: 1);
        var a = await f.Pools.AssignServerAsync(new AssignServerRequest { ServerPool = pool, ConnectionId = "c-1", ClientId = "cl" }, Operator);
        var again = await f.Pools.AssignServerAsync(new AssignServerRequest { ServerPool = pool, ConnectionId = "c-1", ClientId = "cl" }, Operator);
        await f.Pools.AssignServerAsync(new AssignServerRequest { ServerPool = pool, ConnectionId = "c-2", ClientId = "cl" }, Operator);

        Assert.Equal(a.Server.ServerId, again.Server.ServerId);
        var e = await Assert.ThrowsAsync<RpcException>(() =>
            f.Pools.AssignServerAsync(new AssignServerRequest { ServerPool = pool, ConnectionId = "c-3", ClientId = "cl" }, Operator).ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
    }

    [Fact]
    public async Task RemoveServer_of_an_unknown_server_is_NOT_FOUND_or_succeeds_idempotently()
    {
        var pool = await f.CreatePoolAsync();
        await f.Pools.RemoveServerAsync(new RemoveServerRequest { ServerPool = pool, ServerId = "srv-0" }, Operator);
        var list = await f.Pools.ListServersAsync(new ListServersRequest { ServerPool = pool }, Operator);
        Assert.Equal(["srv-1"], list.Servers.Select(s => s.ServerId));
    }

    [Fact]
    public async Task Marking_a_server_unhealthy_fails_its_connections_over()
    {
        var pool = await f.CreatePoolAsync();
        var c = await f.RegisterAsync(pool, preferred: "srv-0");

        var response = await f.Pools.SetServerHealthAsync(new SetServerHealthRequest
        {
            ServerPool = pool,
            ServerId = "srv-0",
            Health = ServerHealth.Unhealthy,
            Reason = "scheme host down",
        }, Operator);

        Assert.Equal(1, response.FailoversRequested);
        Assert.False(response.Server.Healthy);
        await Eventually.Until(
            () => f.Controller.GetConnectionAsync(new GetConnectionRequest { ConnectionId = c.ConnectionId }, Operator).ResponseAsync,
            x => x.Status == ConnectionStatus.Migrating && x.FailoverTarget == "srv-1" && x.ServerId == "srv-0");

        // Idempotent: saying it again moves nothing more.
        var again = await f.Pools.SetServerHealthAsync(new SetServerHealthRequest { ServerPool = pool, ServerId = "srv-0", Health = ServerHealth.Unhealthy }, Operator);
        Assert.Equal(0, again.FailoversRequested);
    }

    [Fact]
    public async Task SetServerHealth_validates_and_authorizes()
    {
        var invalid = await Assert.ThrowsAsync<RpcException>(() => f.Pools.SetServerHealthAsync(
            new SetServerHealthRequest { ServerPool = "p", ServerId = "s" }, Operator).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, invalid.StatusCode);
        Assert.StartsWith("health:", invalid.Status.Detail);

        var denied = await Assert.ThrowsAsync<RpcException>(() => f.Pools.SetServerHealthAsync(
            new SetServerHealthRequest { ServerPool = "p", ServerId = "s", Health = ServerHealth.Unhealthy }, Sidecar1).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);

        var unknown = await Assert.ThrowsAsync<RpcException>(() => f.Pools.SetServerHealthAsync(
            new SetServerHealthRequest { ServerPool = "p-unknown", ServerId = "nope", Health = ServerHealth.Healthy }, Operator).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task Pool_administration_by_a_sidecar_is_PERMISSION_DENIED()
    {
        var e = await Assert.ThrowsAsync<RpcException>(() => f.Pools.AddServerAsync(new AddServerRequest
        {
            ServerPool = "p",
            Server = new ServerInstance { ServerId = "s", Address = "h:1", Zone = "z", Capacity = 1 },
        }, Sidecar1).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
    }
}
