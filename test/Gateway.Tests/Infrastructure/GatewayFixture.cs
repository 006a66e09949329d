using Grpc.Core;
using Grpc.Net.Client;
using OrleansControl.Contract.V1;

namespace OrleansControl.Gateway.Tests.Infrastructure;

/// <summary>One plain-text (h2c, loopback) gateway with bearer tokens, shared by a test collection.</summary>
public sealed class GatewayFixture : IAsyncLifetime
{
    private GatewayHost? _host;
    private GrpcChannel? _channel;

    public GatewayHost Host => _host!;

    public GrpcChannel Channel => _channel!;

    public async Task InitializeAsync()
    {
        _host = await GatewayHost.StartAsync();
        _channel = GrpcChannel.ForAddress(_host.GrpcAddress);
    }

    public static Metadata Bearer(string token) => new() { { "authorization", $"Bearer {token}" } };

    public static readonly Metadata Operator = Bearer(GatewayHost.OperatorToken);
    public static readonly Metadata Sidecar1 = Sidecar(1);
    public static readonly Metadata Sidecar2 = Sidecar(2);

    public static Metadata Sidecar(int n) => Bearer(GatewayHost.SidecarToken(n));

    internal ControllerService.ControllerServiceClient Controller => new(Channel);

    internal ServerPoolService.ServerPoolServiceClient Pools => new(Channel);

    internal SidecarService.SidecarServiceClient Sidecars => new(Channel);

    /// <summary>A fresh pool with servers in two zones, so failovers have a target.</summary>
    public async Task<string> CreatePoolAsync(int capacityEach = 10)
    {
        var pool = $"pool-{Guid.NewGuid():N}"[..20];
        var zones = new[] { "zone-a", "zone-b" };
        for (var i = 0; i < 2; i++)
        {
            await Pools.AddServerAsync(new AddServerRequest
            {
                ServerPool = pool,
                Server = new ServerInstance { ServerId = $"srv-{i}", Address = $"10.0.0.{i + 1}:5000", Zone = zones[i], Capacity = capacityEach },
            }, Operator);
        }
        return pool;
    }

    internal async Task<Connection> RegisterAsync(string pool, string sidecarId = "sidecar-1", string? preferred = null)
    {
        var response = await Controller.RegisterConnectionAsync(new RegisterConnectionRequest
        {
            ClientId = "bank-client-1",
            ServerPool = pool,
            SidecarId = sidecarId,
            PreferredServer = preferred ?? "",
        }, Operator);
        return response.Connection;
    }

    public async Task DisposeAsync()
    {
        _channel?.Dispose();
        if (_host is not null) await _host.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class GatewayCollection : ICollectionFixture<GatewayFixture>
{
    public const string Name = "gateway";
}
