using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using OrleansControl.Contract.V1;
using OrleansControl.Gateway.Hosting;
using OrleansControl.Gateway.Security;
using OrleansControl.Gateway.Tests.Infrastructure;
using OrleansControl.Silo.Extensions;
using static OrleansControl.Gateway.Tests.Infrastructure.GatewayFixture;

namespace OrleansControl.Gateway.Tests;

/// <summary>The other deployment: the gateway in its own process as an Orleans client of the silo.</summary>
public sealed class StandaloneGatewayTests : IAsyncLifetime
{
    private WebApplication _silo = null!;
    private WebApplication _gateway = null!;
    private int _grpcPort;

    public async Task InitializeAsync()
    {
        var clusterId = $"standalone-{Guid.NewGuid():N}";
        var siloGatewayPort = FreePort.Next();

        var silo = WebApplication.CreateBuilder();
        silo.WebHost.UseUrls("http://127.0.0.1:0");
        silo.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Controller:SiloPort"] = FreePort.Next().ToString(),
            ["Controller:GatewayPort"] = siloGatewayPort.ToString(),
            ["Controller:ClusterId"] = clusterId,
        });
        silo.Logging.ClearProviders();
        silo.AddControllerSilo();
        _silo = silo.Build();
        _silo.MapControllerSilo();
        await _silo.StartAsync();

        _grpcPort = FreePort.Next();
        var gateway = WebApplication.CreateBuilder();
        gateway.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Gateway:Cluster:ClusterId"] = clusterId,
            ["Gateway:Cluster:SiloGatewayPort"] = siloGatewayPort.ToString(),
            ["Gateway:GrpcPort"] = _grpcPort.ToString(),
            ["Gateway:RestPort"] = FreePort.Next().ToString(),
            ["Gateway:Auth:AllowAnonymous"] = "false",
            ["Gateway:Auth:Tokens:0:Subject"] = "alice",
            ["Gateway:Auth:Tokens:0:Role"] = GatewayRoles.Operator,
            ["Gateway:Auth:Tokens:0:Sha256"] = BearerTokenHandler.Hash(GatewayHost.OperatorToken),
            ["Gateway:Auth:Tokens:1:Subject"] = "sidecar-1",
            ["Gateway:Auth:Tokens:1:Role"] = GatewayRoles.Sidecar,
            ["Gateway:Auth:Tokens:1:Sha256"] = BearerTokenHandler.Hash(GatewayHost.SidecarToken(1)),
        });
        gateway.Logging.ClearProviders();
        gateway.AddControllerClusterClient();
        gateway.AddControllerGateway();
        _gateway = gateway.Build();
        _gateway.MapControllerGateway();
        await _gateway.StartAsync();
    }

    [Fact]
    public async Task A_gateway_running_as_an_Orleans_client_serves_registrations_and_sidecar_commands()
    {
        using var channel = GrpcChannel.ForAddress($"http://localhost:{_grpcPort}");
        var pools = new ServerPoolService.ServerPoolServiceClient(channel);
        var controller = new ControllerService.ControllerServiceClient(channel);
        foreach (var (id, zone) in new[] { ("s0", "a"), ("s1", "b") })
        {
            await pools.AddServerAsync(new AddServerRequest
            {
                ServerPool = "p", Server = new ServerInstance { ServerId = id, Address = $"{id}.example:5000", Zone = zone, Capacity = 5 },
            }, Operator);
        }
        var c = (await controller.RegisterConnectionAsync(
            new RegisterConnectionRequest { ClientId = "bank", ServerPool = "p", PreferredServer = "s0" }, Sidecar(1))).Connection;

        var (stream, _) = await SidecarStream.AttachAsync(new SidecarService.SidecarServiceClient(channel), Sidecar(1), "sidecar-1");
        await using var _ = stream;
        await stream.HeartbeatAsync(c.ConnectionId);
        await Eventually.Until(
            () => controller.GetConnectionAsync(new GetConnectionRequest { ConnectionId = c.ConnectionId }, Operator).ResponseAsync,
            x => x.Status == ConnectionStatus.Active);

        await controller.RequestFailoverAsync(new RequestFailoverRequest { ConnectionId = c.ConnectionId, Reason = "drill", IdempotencyKey = "k" }, Operator);
        var command = await stream.NextCommandAsync();
        Assert.Equal(CommandKind.ReconnectElsewhere, command.Kind);
        Assert.Equal("s1", command.TargetServerId);
    }

    public async Task DisposeAsync()
    {
        await _gateway.StopAsync();
        await _gateway.DisposeAsync();
        await _silo.StopAsync();
        await _silo.DisposeAsync();
    }
}
