using Grpc.Core;
using OrleansControl.Contract.V1;
using OrleansControl.Gateway.Tests.Infrastructure;
using static OrleansControl.Gateway.Tests.Infrastructure.GatewayFixture;

namespace OrleansControl.Gateway.Tests;

/// <summary>Every ControllerService RPC over a real Kestrel port (h2c on loopback) with Grpc.Net.Client.</summary>
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
        Assert.Equal("local", registered.Region);
        Assert.True(registered.Version >= 1);

        var fetched = await f.Controller.GetConnectionAsync(new GetConnectionRequest { ConnectionId = registered.ConnectionId }, Operator);
        Assert.Equal(registered.ConnectionId, fetched.ConnectionId);
        Assert.Equal(registered.Version, fetched.Version);
    }

    [Fact]
    public async Task RegisterConnection_with_the_same_connection_id_is_idempotent()
    {
        var pool = await f.CreatePoolAsync();
        var request = new RegisterConnectionRequest { ClientId = "client-x", ServerPool = pool, ConnectionId = $"conn-{Guid.NewGuid():N}" };
        request.Metadata["terminal"] = "T1";
        var first = await f.Controller.RegisterConnectionAsync(request, Sidecar1);
        var second = await f.Controller.RegisterConnectionAsync(request, Sidecar1);

        Assert.Equal(first.Connection.ServerId, second.Connection.ServerId);
        Assert.Equal(first.Connection.Version, second.Connection.Version);
        Assert.Equal("T1", second.Connection.Metadata["terminal"]);
        Assert.Equal("sidecar-1", second.Connection.SidecarId);
    }

    [Fact]
    public async Task GetConnection_of_an_unknown_id_is_NOT_FOUND()
    {
        var e = await Assert.ThrowsAsync<RpcException>(() =>
            f.Controller.GetConnectionAsync(new GetConnectionRequest { ConnectionId = "never-registered" }, Operator).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
        Assert.Contains("never-registered", e.Status.Detail);
    }

    [Fact]
    public async Task ListConnections_filters_by_client_and_pages()
    {
        var pool = await f.CreatePoolAsync();
        var client = $"client-{Guid.NewGuid():N}"[..24];
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var r = await f.Controller.RegisterConnectionAsync(new RegisterConnectionRequest { ClientId = client, ServerPool = pool }, Operator);
            ids.Add(r.Connection.ConnectionId);
        }

        var first = await Eventually.Until(
            () => f.Controller.ListConnectionsAsync(new ListConnectionsRequest { ClientId = client, PageSize = 2 }, Operator).ResponseAsync,
            p => p.Connections.Count == 2 && p.NextPageToken.Length > 0);
        var second = await f.Controller.ListConnectionsAsync(
            new ListConnectionsRequest { ClientId = client, PageSize = 2, PageToken = first.NextPageToken }, Operator);

        Assert.Single(second.Connections);
        Assert.Equal("", second.NextPageToken);
        Assert.Equal(ids.Order(), first.Connections.Concat(second.Connections).Select(c => c.ConnectionId).Order());
        Assert.All(first.Connections, c => Assert.Equal(client, c.ClientId));
    }

    [Fact]
    public async Task ListConnections_filters_by_sidecar_on_the_first_page_and_shows_the_owner()
    {
        var pool = await f.CreatePoolAsync(capacityEach: 100);
        var crowd = $"crowd-{Guid.NewGuid():N}"[..16];
        var loner = $"loner-{Guid.NewGuid():N}"[..16];
        // Ids that sort before the loner's: a filter applied after paging would find nothing on page one.
        for (var i = 0; i < 12; i++)
            await f.Controller.RegisterConnectionAsync(new RegisterConnectionRequest
            {
                ClientId = "c",
                ServerPool = pool,
                SidecarId = crowd,
                ConnectionId = $"aaa-{crowd}-{i:D2}",
            }, Operator);
        var mine = (await f.Controller.RegisterConnectionAsync(new RegisterConnectionRequest
        {
            ClientId = "c",
            ServerPool = pool,
            SidecarId = loner,
            ConnectionId = $"zzz-{loner}",
        }, Operator)).Connection;

        var page = await Eventually.Until(
            () => f.Controller.ListConnectionsAsync(new ListConnectionsRequest { SidecarId = loner, PageSize = 5 }, Operator).ResponseAsync,
            p => p.Connections.Count > 0);

        var row = Assert.Single(page.Connections);
        Assert.Equal((mine.ConnectionId, loner, "local"), (row.ConnectionId, row.SidecarId, row.Region));
        Assert.Equal("", page.NextPageToken);
        Assert.Equal(loner, mine.SidecarId);
        Assert.DoesNotContain(mine.Metadata.Keys, k => k.StartsWith("oc.", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ListConnections_filters_by_status()
    {
        var pool = await f.CreatePoolAsync();
        var client = $"client-{Guid.NewGuid():N}"[..24];
        var a = await f.Controller.RegisterConnectionAsync(new RegisterConnectionRequest { ClientId = client, ServerPool = pool }, Operator);
        await f.Controller.RegisterConnectionAsync(new RegisterConnectionRequest { ClientId = client, ServerPool = pool }, Operator);
        await f.Controller.UpdateConnectionStateAsync(new UpdateConnectionStateRequest
        {
            ConnectionId = a.Connection.ConnectionId,
            State = ConnectionStatus.Closed,
            ExpectedVersion = a.Connection.Version,
        }, Operator);

        var closed = await Eventually.Until(
            () => f.Controller.ListConnectionsAsync(new ListConnectionsRequest { ClientId = client, Status = ConnectionStatus.Closed }, Operator).ResponseAsync,
            p => p.Connections.Count == 1);
        Assert.Equal(a.Connection.ConnectionId, closed.Connections[0].ConnectionId);
    }

    [Fact]
    public async Task ReportHealth_with_metrics_activates_the_connection_and_DOWN_fails_it_over()
    {
        var pool = await f.CreatePoolAsync();
        var c = await f.RegisterAsync(pool, preferred: "srv-0");

        var healthy = await f.Controller.ReportHealthAsync(new ReportHealthRequest
        {
            ConnectionId = c.ConnectionId,
            Status = LinkHealth.Healthy,
            Metrics = new HealthMetrics { EchoRttMs = 15 },
        }, Sidecar1);
        Assert.Equal(ConnectionStatus.Active, healthy.Status);
        Assert.InRange(healthy.HealthScore, 1, 100);

        var down = await f.Controller.ReportHealthAsync(new ReportHealthRequest { ConnectionId = c.ConnectionId, Status = LinkHealth.Down }, Sidecar1);
        Assert.True(down.Version > healthy.Version);

        // DOWN fails it over: Migrating to srv-1, still named on srv-0 until the sidecar signs on there.
        var after = await f.Controller.GetConnectionAsync(new GetConnectionRequest { ConnectionId = c.ConnectionId }, Operator);
        Assert.Equal((ConnectionStatus.Migrating, "srv-0", "srv-1"), (after.Status, after.ServerId, after.FailoverTarget));
        var servers = await f.Pools.ListServersAsync(new ListServersRequest { ServerPool = pool }, Operator);
        Assert.True(servers.Servers.Single(s => s.ServerId == "srv-0").Suspect, "the server the sidecar reported down is suspect");
    }

    [Fact]
    public async Task RequestFailover_in_a_one_server_pool_is_refused_and_changes_nothing()
    {
        var pool = $"one-{Guid.NewGuid():N}"[..16];
        await f.Pools.AddServerAsync(new AddServerRequest
        {
            ServerPool = pool,
            Server = new ServerInstance { ServerId = "only", Address = "10.0.0.9:5000", Zone = "z", Capacity = 5 },
        }, Operator);
        var c = await f.RegisterAsync(pool);

        var refused = await Assert.ThrowsAsync<RpcException>(() => f.Controller.RequestFailoverAsync(
            new RequestFailoverRequest { ConnectionId = c.ConnectionId, Reason = "drill", IdempotencyKey = "one-1" }, Operator).ResponseAsync);

        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.StartsWith("no failover target", refused.Status.Detail);
        var after = await f.Controller.GetConnectionAsync(new GetConnectionRequest { ConnectionId = c.ConnectionId }, Operator);
        Assert.Equal((c.Status, "only", c.Version), (after.Status, after.ServerId, after.Version));
    }

    [Fact]
    public async Task RequestFailover_moves_once_per_idempotency_key()
    {
        var pool = await f.CreatePoolAsync();
        var c = await f.RegisterAsync(pool, preferred: "srv-0");
        var request = new RequestFailoverRequest { ConnectionId = c.ConnectionId, Reason = "operator drill", IdempotencyKey = "drill-1" };

        var first = await f.Controller.RequestFailoverAsync(request, Operator);
        var second = await f.Controller.RequestFailoverAsync(request, Operator);

        Assert.False(first.Duplicate);
        Assert.Equal((ConnectionStatus.Migrating, "srv-1"), (first.Connection.Status, first.Connection.FailoverTarget));
        Assert.True(second.Duplicate);
        Assert.Equal("srv-1", second.Connection.FailoverTarget);
        Assert.Equal(first.Connection.Version, second.Connection.Version);
    }

    [Fact]
    public async Task UpdateConnectionState_applies_a_legal_change_at_the_expected_version()
    {
        var pool = await f.CreatePoolAsync();
        var c = await f.RegisterAsync(pool);

        var closed = await f.Controller.UpdateConnectionStateAsync(new UpdateConnectionStateRequest
        {
            ConnectionId = c.ConnectionId,
            State = ConnectionStatus.Closed,
            ExpectedVersion = c.Version,
            Reason = "decommissioned",
        }, Operator);

        Assert.Equal(ConnectionStatus.Closed, closed.Connection.Status);
        Assert.Equal(c.Version + 1, closed.Connection.Version);
    }

    [Fact]
    public async Task UpdateConnectionState_with_a_stale_version_is_FAILED_PRECONDITION()
    {
        var pool = await f.CreatePoolAsync();
        var c = await f.RegisterAsync(pool);
        var e = await Assert.ThrowsAsync<RpcException>(() => f.Controller.UpdateConnectionStateAsync(new UpdateConnectionStateRequest
        {
            ConnectionId = c.ConnectionId,
            State = ConnectionStatus.Closed,
            ExpectedVersion = c.Version + 5,
        }, Operator).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
        Assert.Contains("version", e.Status.Detail);
    }

    [Fact]
    public async Task UpdateConnectionState_with_an_illegal_transition_is_FAILED_PRECONDITION()
    {
        var pool = await f.CreatePoolAsync();
        var c = await f.RegisterAsync(pool);
        var e = await Assert.ThrowsAsync<RpcException>(() => f.Controller.UpdateConnectionStateAsync(new UpdateConnectionStateRequest
        {
            ConnectionId = c.ConnectionId,
            State = ConnectionStatus.Migrating,
            ExpectedVersion = c.Version,
        }, Operator).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
        Assert.DoesNotContain("   at ", e.Status.Detail);
    }

    [Fact]
    public async Task WatchConnections_streams_status_changes_of_a_connection()
    {
        var pool = await f.CreatePoolAsync();
        var c = await f.RegisterAsync(pool);
        using var watch = f.Controller.WatchConnections(new WatchConnectionsRequest { ConnectionId = c.ConnectionId }, Operator);
        await watch.ResponseHeadersAsync;

        await f.Controller.UpdateConnectionStateAsync(new UpdateConnectionStateRequest
        {
            ConnectionId = c.ConnectionId,
            State = ConnectionStatus.Closed,
            ExpectedVersion = c.Version,
        }, Operator);

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        ConnectionEvent e;
        do
        {
            // The registration's own event may still be in flight when the watch starts.
            Assert.True(await watch.ResponseStream.MoveNext(cts.Token));
            e = watch.ResponseStream.Current;
        }
        while (e.Connection.Status != ConnectionStatus.Closed);
        Assert.Equal(c.ConnectionId, e.Connection.ConnectionId);
        Assert.Equal(ConnectionStatus.Requested, e.PreviousStatus);
        Assert.Equal(ConnectionStatus.Closed, e.Connection.Status);
    }

    [Fact]
    public async Task SyncState_from_a_non_peer_is_PERMISSION_DENIED()
    {
        var e = await Assert.ThrowsAsync<RpcException>(() =>
            f.Controller.SyncStateAsync(new SyncStateRequest { SourceRegion = "other" }, Operator).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
    }
}
