using Grpc.Core;
using OrleansControl.Contract.V1;
using OrleansControl.Gateway.Tests.Infrastructure;
using static OrleansControl.Gateway.Tests.Infrastructure.GatewayFixture;

namespace OrleansControl.Gateway.Tests;

/// <summary>What the gateway answers when a request names something that is not there or would silently do harm.</summary>
[Collection(GatewayCollection.Name)]
public sealed class HonestErrorTests(GatewayFixture f)
{
    [Fact]
    public async Task A_preferred_server_the_pool_does_not_have_is_NOT_FOUND_on_register_and_assign()
    {
        var pool = await f.CreatePoolAsync();

        var register = await Assert.ThrowsAsync<RpcException>(() => f.RegisterAsync(pool, preferred: "srv-9"));
        Assert.Equal(StatusCode.NotFound, register.StatusCode);
        Assert.Contains("srv-9", register.Status.Detail, StringComparison.Ordinal);

        var assign = await Assert.ThrowsAsync<RpcException>(() => f.Pools.AssignServerAsync(
            new AssignServerRequest { ServerPool = pool, ConnectionId = "c-9", ClientId = "cl", PreferredServer = "srv-9" }, Operator).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, assign.StatusCode);
        Assert.Equal(0, (await f.Pools.ListServersAsync(new ListServersRequest { ServerPool = pool }, Operator)).Servers.Sum(s => s.Load));
    }

    [Fact]
    public async Task Page_tokens_are_opaque_and_a_token_never_issued_is_INVALID_ARGUMENT_not_page_one()
    {
        var pool = await f.CreatePoolAsync();
        for (var i = 0; i < 3; i++)
        {
            await f.RegisterAsync(pool);
        }

        var first = await f.Controller.ListConnectionsAsync(new ListConnectionsRequest { ServerPool = pool, PageSize = 2 }, Operator);
        Assert.Equal(2, first.Connections.Count);
        Assert.DoesNotContain(first.Connections[1].ConnectionId, first.NextPageToken, StringComparison.Ordinal);
        var second = await f.Controller.ListConnectionsAsync(new ListConnectionsRequest { ServerPool = pool, PageSize = 2, PageToken = first.NextPageToken }, Operator);
        Assert.Single(second.Connections);
        Assert.Equal("", second.NextPageToken);

        foreach (var garbage in new[] { "garbage", first.Connections[1].ConnectionId, "Yzk6", new string('A', 300) })
        {
            var e = await Assert.ThrowsAsync<RpcException>(() => f.Controller.ListConnectionsAsync(
                new ListConnectionsRequest { ServerPool = pool, PageToken = garbage }, Operator).ResponseAsync);
            Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
            Assert.StartsWith("page_token:", e.Status.Detail, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task AddServer_on_an_existing_id_refuses_a_new_address_or_zone_while_it_carries_connections()
    {
        var pool = await f.CreatePoolAsync();
        await f.RegisterAsync(pool, preferred: "srv-0");

        foreach (var (address, zone, field) in new[] { ("10.9.9.9:5000", "zone-a", "address"), ("10.0.0.1:5000", "zone-b", "zone") })
        {
            var e = await Assert.ThrowsAsync<RpcException>(() => f.Pools.AddServerAsync(new AddServerRequest
            {
                ServerPool = pool,
                Server = new ServerInstance { ServerId = "srv-0", Address = address, Zone = zone, Capacity = 10 },
            }, Operator).ResponseAsync);
            Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
            Assert.StartsWith($"server.{field}: server 'srv-0'", e.Status.Detail, StringComparison.Ordinal);
            Assert.Contains("carries 1 connection", e.Status.Detail, StringComparison.Ordinal);
        }

        // Capacity may change under load; the address and zone stay what they were.
        var resized = await f.Pools.AddServerAsync(new AddServerRequest
        {
            ServerPool = pool,
            Server = new ServerInstance { ServerId = "srv-0", Address = "10.0.0.1:5000", Zone = "zone-a", Capacity = 20 },
        }, Operator);
        Assert.Equal((20, "10.0.0.1:5000", "zone-a"), (resized.Server.Capacity, resized.Server.Address, resized.Server.Zone));

        // A server that carries nothing may move.
        var moved = await f.Pools.AddServerAsync(new AddServerRequest
        {
            ServerPool = pool,
            Server = new ServerInstance { ServerId = "srv-1", Address = "10.9.9.9:5000", Zone = "zone-b", Capacity = 10 },
        }, Operator);
        Assert.Equal("10.9.9.9:5000", moved.Server.Address);
    }

    [Fact]
    public async Task SetServerHealth_of_an_unknown_server_is_NOT_FOUND_like_RemoveServer()
    {
        var pool = await f.CreatePoolAsync();
        var health = await Assert.ThrowsAsync<RpcException>(() => f.Pools.SetServerHealthAsync(
            new SetServerHealthRequest { ServerPool = pool, ServerId = "srv-9", Health = ServerHealth.Unhealthy }, Operator).ResponseAsync);
        var remove = await Assert.ThrowsAsync<RpcException>(() => f.Pools.RemoveServerAsync(
            new RemoveServerRequest { ServerPool = pool, ServerId = "srv-9" }, Operator).ResponseAsync);
        Assert.Equal((StatusCode.NotFound, StatusCode.NotFound), (health.StatusCode, remove.StatusCode));
        Assert.Equal(health.Status.Detail, remove.Status.Detail);
    }
}
