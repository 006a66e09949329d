using Grpc.Core;
using OrleansControl.Contract.V1;
using OrleansControl.Gateway.Tests.Infrastructure;
using static OrleansControl.Gateway.Tests.Infrastructure.GatewayFixture;

namespace OrleansControl.Gateway.Tests;

[Collection(GatewayCollection.Name)]
public sealed class ControllerServiceTests(GatewayFixture f)
{
    [Fact]
    public async Task RegisterConnection_assigns_a_server_from_the_pool_and_GetConnection_returns_it()
    {
        var pool = await f.CreatePoolAsync();
        var registered = await f.RegisterAsync(pool, preferred: "srv-1");

        Assert.Equal(ConnectionStatus.Requested, registered.Status);
        Assert.Equal("srv-1", registered.ServerId);
        Assert.Equal("10.0.0.2:5000", registered.ServerAddress);
        Assert.Equal("sidecar-1", registered.SidecarId);
        Assert.True(registered.Version >= 1);

        var fetched = await f.Controller.GetConnectionAsync(new GetConnectionRequest { ConnectionId = registered.ConnectionId }, Operator);
        Assert.Equal(registered.ConnectionId, fetched.ConnectionId);
        Assert.Equal(registered.Version, fetched.Version);
    }
}
