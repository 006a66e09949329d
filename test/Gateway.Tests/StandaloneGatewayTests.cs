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
    private WebApplication _secondGateway = null!;
    private int _grpcPort;
    private int _secondGrpcPort;

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
        _secondGrpcPort = FreePort.Next();
        _gateway = await StartGateway(clusterId, siloGatewayPort, _grpcPort);
        _secondGateway = await StartGateway(clusterId, siloGatewayPort, _secondGrpcPort);
    }

    private static async Task<WebApplication> StartGateway(string clusterId, int siloGatewayPort, int grpcPort)
    {
        var gateway = WebApplication.CreateBuilder();
        gateway.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Gateway:Cluster:ClusterId"] = clusterId,
            ["Gateway:Cluster:SiloGatewayPort"] = siloGatewayPort.ToString(),
            ["Gateway:GrpcPort"] = grpcPort.ToString(),
            ["Gateway:RestPort"] = FreePort.Next().ToString(),
            ["Gateway:Auth:AllowAnonymous"] = "false",
            ["Gateway:Auth:Tokens:0:Subject"] = "alice",
            ["Gateway:Auth:Tokens:0:Role"] = GatewayRoles.Operator,
            ["Gateway:Auth:Tokens:0:Sha256"] = BearerTokenHandler.Hash(GatewayHost.OperatorToken),
            ["Gateway:Auth:Tokens:1:Subject"] = "sidecar-1",
            ["Gateway:Auth:Tokens:1:Role"] = GatewayRoles.Sidecar,
            ["Gateway:Auth:Tokens:1:Sha256"] = BearerTokenHandler.Hash(GatewayHost.SidecarToken(1)),
            ["Gateway:Auth:Tokens:2:Subject"] = "sidecar-2",
            ["Gateway:Auth:Tokens:2:Role"] = GatewayRoles.Sidecar,
            ["Gateway:Auth:Tokens:2:Sha256"] = BearerTokenHandler.Hash(GatewayHost.SidecarToken(2)),
        });
        gateway.Logging.ClearProviders();
        gateway.AddControllerClusterClient();
        gateway.AddControllerGateway();
        var app = gateway.Build();
        app.MapControllerGateway();
        await app.StartAsync();
        return app;
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
                ServerPool = "p",
                Server = new ServerInstance { ServerId = id, Address = $"{id}.example:5000", Zone = zone, Capacity = 5 },
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

    [Fact]
    public async Task A_stream_resumed_on_another_gateway_gets_the_pending_commands_exactly_once()
    {
        using var first = GrpcChannel.ForAddress($"http://localhost:{_grpcPort}");
        using var second = GrpcChannel.ForAddress($"http://localhost:{_secondGrpcPort}");
        var pools = new ServerPoolService.ServerPoolServiceClient(first);
        var controller = new ControllerService.ControllerServiceClient(first);
        foreach (var (id, zone) in new[] { ("t0", "a"), ("t1", "b") })
        {
            await pools.AddServerAsync(new AddServerRequest
            {
                ServerPool = "q",
                Server = new ServerInstance { ServerId = id, Address = $"{id}.example:5000", Zone = zone, Capacity = 5 },
            }, Operator);
        }
        var c = (await controller.RegisterConnectionAsync(
            new RegisterConnectionRequest { ClientId = "bank-2", ServerPool = "q", PreferredServer = "t0" }, Sidecar(2))).Connection;

        var (onFirst, _) = await SidecarStream.AttachAsync(new SidecarService.SidecarServiceClient(first), Sidecar(2), "sidecar-2");
        await controller.RequestFailoverAsync(new RequestFailoverRequest { ConnectionId = c.ConnectionId, Reason = "drill", IdempotencyKey = "x" }, Operator);
        var sent = await onFirst.NextCommandAsync();
        await onFirst.DisposeAsync(); // the gateway (or the network to it) is lost before the ack

        var (onSecond, attached) = await SidecarStream.AttachAsync(new SidecarService.SidecarServiceClient(second), Sidecar(2), "sidecar-2");
        await using var _ = onSecond;
        Assert.Equal(1, attached.PendingCommands);
        var resent = await onSecond.NextCommandAsync();
        Assert.Equal(sent.CommandId, resent.CommandId);
        Assert.Equal(sent.Sequence, resent.Sequence);
        await onSecond.AckAsync(resent);
        Assert.Null(await onSecond.NextAsync(TimeSpan.FromMilliseconds(1500)));
    }

    public async Task DisposeAsync()
    {
        await _secondGateway.StopAsync();
        await _secondGateway.DisposeAsync();
        await _gateway.StopAsync();
        await _gateway.DisposeAsync();
        await _silo.StopAsync();
        await _silo.DisposeAsync();
    }
}
