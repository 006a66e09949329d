using Grpc.Core;
using OrleansControl.Contract.V1;
using OrleansControl.Gateway.Tests.Infrastructure;

namespace OrleansControl.Gateway.Tests;

/// <summary>One TLS gateway whose client CA is a CA made for this test run.</summary>
public sealed class MutualTlsFixture : IAsyncLifetime
{
    public TestCertificates Certs { get; } = new();

    public TestCertificates Strangers { get; } = new("Some Other CA");

    public GatewayHost Host { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var server = Certs.IssueServer();
        Host = await GatewayHost.StartAsync(region: "bank-eu", configure: o =>
        {
            o.Tls.ServerCertificate = server;
            o.Tls.ClientCa = [Certs.Ca];
        });
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        Certs.Dispose();
        Strangers.Dispose();
    }
}

/// <summary>A TLS gateway: client certificates from the trusted CA (OU = role), the peer-only calls, refusals.</summary>
public sealed class MutualTlsTests(MutualTlsFixture fixture) : IClassFixture<MutualTlsFixture>
{
    private readonly TestCertificates _certs = fixture.Certs;
    private readonly TestCertificates _strangers = fixture.Strangers;
    private readonly GatewayHost _host = fixture.Host;

    private ControllerService.ControllerServiceClient Controller(System.Security.Cryptography.X509Certificates.X509Certificate2? cert) =>
        new(TlsClients.Channel(_host.GrpcAddress, _certs.Ca, cert));

    private static SyncStateRequest Sync(string id) => new()
    {
        SourceRegion = "scheme-eu",
        Entries = { new Connection { ConnectionId = id, Version = 3, Status = ConnectionStatus.Active, Region = "scheme-eu", ClientId = "c" } },
    };

    [Fact]
    public async Task The_peer_controller_with_a_trusted_certificate_may_SyncState()
    {
        var peer = Controller(_certs.IssueClient("scheme-eu", "peer"));
        var response = await peer.SyncStateAsync(Sync($"peer-owned-{Guid.NewGuid():N}"));
        Assert.Equal(1, response.Applied);
    }

    [Theory]
    [InlineData("version", "entries[0].version")]
    [InlineData("status", "entries[0].status")]
    [InlineData("id", "entries[0].connection_id")]
    [InlineData("source", "source_region")]
    [InlineData("count", "entries")]
    public async Task SyncState_validates_every_entry(string broken, string field)
    {
        var peer = Controller(_certs.IssueClient("scheme-eu", "peer"));
        var request = Sync("valid-id");
        switch (broken)
        {
            case "version": request.Entries[0].Version = 0; break;
            case "status": request.Entries[0].Status = ConnectionStatus.Unspecified; break;
            case "id": request.Entries[0].ConnectionId = "bad id"; break;
            case "source": request.SourceRegion = ""; break;
            case "count":
                for (var i = 0; i < 1000; i++) request.Entries.Add(request.Entries[0]);
                break;
        }
        var e = await Assert.ThrowsAsync<RpcException>(() => peer.SyncStateAsync(request).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.StartsWith(field + ":", e.Status.Detail);
    }

    [Fact]
    public async Task The_peer_may_request_a_cross_region_failover()
    {
        var pools = new ServerPoolService.ServerPoolServiceClient(TlsClients.Channel(_host.GrpcAddress, _certs.Ca, null));
        var pool = $"xr-{Guid.NewGuid():N}"[..12];
        foreach (var (id, zone) in new[] { ("a", "z1"), ("b", "z2") })
        {
            await pools.AddServerAsync(new AddServerRequest
            {
                ServerPool = pool,
                Server = new ServerInstance { ServerId = id, Address = $"{id}.example:1", Zone = zone, Capacity = 2 },
            }, GatewayFixture.Operator);
        }
        var op = Controller(null);
        var c = (await op.RegisterConnectionAsync(new RegisterConnectionRequest { ClientId = "c", ServerPool = pool, PreferredServer = "a" },
            GatewayFixture.Operator)).Connection;

        var peer = Controller(_certs.IssueClient("scheme-eu", "peer"));
        var moved = await peer.RequestFailoverAsync(new RequestFailoverRequest
        {
            ConnectionId = c.ConnectionId,
            Reason = "scheme server a failed",
            IdempotencyKey = "scheme-1",
            OriginRegion = "scheme-eu",
        });

        // Under way (the connection has no sidecar to carry it, so it waits), never "moved" before a sign-on.
        Assert.Equal((Contract.V1.ConnectionStatus.Migrating, "a", "b"), (moved.Connection.Status, moved.Connection.ServerId, moved.Connection.FailoverTarget));
    }

    [Fact]
    public async Task A_peer_certificate_from_an_untrusted_CA_is_UNAUTHENTICATED()
    {
        var impostor = Controller(_strangers.IssueClient("scheme-eu", "peer"));
        var e = await Assert.ThrowsAsync<RpcException>(() => impostor.SyncStateAsync(Sync("x")).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, e.StatusCode);
    }

    [Fact]
    public async Task No_certificate_and_no_token_is_UNAUTHENTICATED()
    {
        var anonymous = Controller(null);
        var e = await Assert.ThrowsAsync<RpcException>(() => anonymous.ListConnectionsAsync(new ListConnectionsRequest()).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, e.StatusCode);
    }

    [Fact]
    public async Task A_certificate_without_a_known_role_is_UNAUTHENTICATED()
    {
        var nobody = Controller(_certs.IssueClient("someone", "marketing"));
        var e = await Assert.ThrowsAsync<RpcException>(() => nobody.ListConnectionsAsync(new ListConnectionsRequest()).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, e.StatusCode);
    }

    [Fact]
    public async Task An_operator_certificate_may_read_but_not_SyncState()
    {
        var op = Controller(_certs.IssueClient("alice", "operator"));
        await op.ListConnectionsAsync(new ListConnectionsRequest());
        var e = await Assert.ThrowsAsync<RpcException>(() => op.SyncStateAsync(Sync("x")).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
    }

    [Fact]
    public async Task The_peer_may_not_change_state_by_hand()
    {
        var peer = Controller(_certs.IssueClient("scheme-eu", "peer"));
        var e = await Assert.ThrowsAsync<RpcException>(() => peer.UpdateConnectionStateAsync(new UpdateConnectionStateRequest
        {
            ConnectionId = "c1",
            State = ConnectionStatus.Closed,
            ExpectedVersion = 1,
        }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
    }

    [Fact]
    public async Task A_bearer_token_still_works_over_TLS_without_a_certificate()
    {
        var client = Controller(null);
        var list = await client.ListConnectionsAsync(new ListConnectionsRequest(), GatewayFixture.Operator);
        Assert.NotNull(list);
    }
}
