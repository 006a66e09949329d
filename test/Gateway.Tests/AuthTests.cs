using Grpc.Core;
using OrleansControl.Contract.V1;
using OrleansControl.Gateway.Tests.Infrastructure;
using static OrleansControl.Gateway.Tests.Infrastructure.GatewayFixture;

namespace OrleansControl.Gateway.Tests;

/// <summary>Bearer-token authentication and the authorization rules on the plain-text test gateway.</summary>
[Collection(GatewayCollection.Name)]
public sealed class AuthTests(GatewayFixture f)
{
    [Fact]
    public async Task A_call_without_credentials_is_UNAUTHENTICATED()
    {
        var e = await Assert.ThrowsAsync<RpcException>(() =>
            f.Controller.ListConnectionsAsync(new ListConnectionsRequest()).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, e.StatusCode);
    }

    [Fact]
    public async Task An_unknown_bearer_token_is_UNAUTHENTICATED()
    {
        var e = await Assert.ThrowsAsync<RpcException>(() =>
            f.Controller.ListConnectionsAsync(new ListConnectionsRequest(), Bearer("guessed")).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, e.StatusCode);
    }

    [Fact]
    public async Task A_sidecar_asking_about_another_sidecars_connection_is_PERMISSION_DENIED()
    {
        var pool = await f.CreatePoolAsync();
        var c = await f.RegisterAsync(pool, sidecarId: "sidecar-1");

        var get = await Assert.ThrowsAsync<RpcException>(() =>
            f.Controller.GetConnectionAsync(new GetConnectionRequest { ConnectionId = c.ConnectionId }, Sidecar2).ResponseAsync);
        var report = await Assert.ThrowsAsync<RpcException>(() =>
            f.Controller.ReportHealthAsync(new ReportHealthRequest { ConnectionId = c.ConnectionId, Status = LinkHealth.Down }, Sidecar2).ResponseAsync);
        var failover = await Assert.ThrowsAsync<RpcException>(() => f.Controller.RequestFailoverAsync(
            new RequestFailoverRequest { ConnectionId = c.ConnectionId, Reason = "r", IdempotencyKey = "k" }, Sidecar2).ResponseAsync);

        Assert.Equal(StatusCode.PermissionDenied, get.StatusCode);
        Assert.Equal(StatusCode.PermissionDenied, report.StatusCode);
        Assert.Equal(StatusCode.PermissionDenied, failover.StatusCode);
        // The owner may.
        var own = await f.Controller.GetConnectionAsync(new GetConnectionRequest { ConnectionId = c.ConnectionId }, Sidecar1);
        Assert.Equal(c.ConnectionId, own.ConnectionId);
    }

    [Fact]
    public async Task A_sidecar_cannot_register_for_another_sidecar()
    {
        var pool = await f.CreatePoolAsync();
        var e = await Assert.ThrowsAsync<RpcException>(() => f.Controller.RegisterConnectionAsync(
            new RegisterConnectionRequest { ClientId = "c", ServerPool = pool, SidecarId = "sidecar-2" }, Sidecar1).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
    }

    [Fact]
    public async Task A_sidecar_lists_only_its_own_connections()
    {
        var pool = await f.CreatePoolAsync();
        var client = $"client-{Guid.NewGuid():N}"[..24];
        var mine = await f.Controller.RegisterConnectionAsync(new RegisterConnectionRequest { ClientId = client, ServerPool = pool }, Sidecar(5));
        await f.Controller.RegisterConnectionAsync(new RegisterConnectionRequest { ClientId = client, ServerPool = pool }, Sidecar(6));

        await Eventually.Until(
            () => f.Controller.ListConnectionsAsync(new ListConnectionsRequest { ClientId = client }, Operator).ResponseAsync,
            p => p.Connections.Count == 2);
        var list = await f.Controller.ListConnectionsAsync(new ListConnectionsRequest { ClientId = client }, Sidecar(5));

        Assert.Equal([mine.Connection.ConnectionId], list.Connections.Select(c => c.ConnectionId));
    }

    [Fact]
    public async Task Only_operators_change_state_by_hand()
    {
        var pool = await f.CreatePoolAsync();
        var c = await f.RegisterAsync(pool, sidecarId: "sidecar-1");
        var e = await Assert.ThrowsAsync<RpcException>(() => f.Controller.UpdateConnectionStateAsync(new UpdateConnectionStateRequest
        {
            ConnectionId = c.ConnectionId,
            State = ConnectionStatus.Closed,
            ExpectedVersion = c.Version,
        }, Sidecar1).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
    }

    [Fact]
    public async Task Cross_region_failover_from_an_operator_is_PERMISSION_DENIED()
    {
        var pool = await f.CreatePoolAsync();
        var c = await f.RegisterAsync(pool);
        var e = await Assert.ThrowsAsync<RpcException>(() => f.Controller.RequestFailoverAsync(new RequestFailoverRequest
        {
            ConnectionId = c.ConnectionId,
            Reason = "r",
            IdempotencyKey = "k",
            OriginRegion = "scheme-eu",
        }, Operator).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
    }

    [Fact]
    public async Task A_sidecar_cannot_attach_as_another_sidecar()
    {
        using var call = f.Sidecars.Attach(Sidecar1);
        await call.RequestStream.WriteAsync(new SidecarMessage { Register = new SidecarRegister { SidecarId = "sidecar-2" } });
        var e = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
    }

    [Fact]
    public async Task An_operator_cannot_attach_as_a_sidecar()
    {
        using var call = f.Sidecars.Attach(Operator);
        // The refusal can end the call before the client has written its first message: then the write throws it.
        var e = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await call.RequestStream.WriteAsync(new SidecarMessage { Register = new SidecarRegister { SidecarId = "sidecar-1" } });
            await call.ResponseStream.MoveNext();
        });
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
    }
}
