using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using OrleansControl.Gateway.Hosting;
using OrleansControl.Gateway.Security;
using OrleansControl.Gateway.Tests.Infrastructure;
using OrleansControl.Silo.Extensions;

namespace OrleansControl.Occtl.Tests.Infrastructure;

/// <summary>
/// The controller as <c>dotnet run --project Silo</c> composes it (silo + gateway, in memory), on free loopback
/// ports, with bearer tokens and no anonymous access. Copied from test/EndToEnd.Tests/ControllerHost.cs (the start)
/// and test/Gateway.Tests/Infrastructure/GatewayHost.cs (the tokens, TLS): test projects do not share code here.
/// </summary>
public sealed class ControllerHost : IAsyncDisposable
{
    public const string OperatorToken = "occtl-tests-operator-token";

    public static string SidecarToken(int n) => $"occtl-tests-sidecar-{n}-token";

    private readonly WebApplication _app;

    private ControllerHost(WebApplication app, Uri grpcAddress)
    {
        _app = app;
        GrpcAddress = grpcAddress;
    }

    public Uri GrpcAddress { get; }

    /// <param name="tls">Server certificate and client CA: the gateway then serves https only and checks client certificates.</param>
    public static async Task<ControllerHost> StartAsync(TestCertificates? tls = null)
    {
        var grpcPort = FreePort();
        var builder = WebApplication.CreateBuilder();
        var config = new Dictionary<string, string?>
        {
            ["Controller:SiloPort"] = FreePort().ToString(),
            ["Controller:GatewayPort"] = FreePort().ToString(),
            ["Controller:ClusterId"] = $"occtl-{Guid.NewGuid():N}",
            // Long heartbeat intervals: connections without a heartbeating sidecar keep their status during a test.
            ["Controller:Health:HeartbeatInterval"] = "00:01:00",
            ["Gateway:HeartbeatInterval"] = "00:01:00",
            ["Gateway:GrpcPort"] = grpcPort.ToString(),
            ["Gateway:RestPort"] = FreePort().ToString(),
            ["Gateway:Auth:AllowAnonymous"] = "false",
            ["Gateway:Auth:Tokens:0:Subject"] = "alice",
            ["Gateway:Auth:Tokens:0:Role"] = GatewayRoles.Operator,
            ["Gateway:Auth:Tokens:0:Sha256"] = Sha256(OperatorToken),
        };
        for (var i = 1; i <= 9; i++)
        {
            config[$"Gateway:Auth:Tokens:{i}:Subject"] = $"sidecar-{i}";
            config[$"Gateway:Auth:Tokens:{i}:Role"] = GatewayRoles.Sidecar;
            config[$"Gateway:Auth:Tokens:{i}:Sha256"] = Sha256(SidecarToken(i));
        }
        builder.Configuration.AddInMemoryCollection(config);
        builder.Logging.ClearProviders();
        builder.AddControllerSilo();
        builder.AddControllerGateway(o =>
        {
            if (tls is null) return;
            o.Tls.ServerCertificate = tls.IssueServer();
            o.Tls.ClientCa = [tls.Ca];
        });
        var app = builder.Build();
        app.MapControllerSilo();
        app.MapControllerGateway();
        await app.StartAsync();
        return new ControllerHost(app, new Uri($"{(tls is null ? "http" : "https")}://localhost:{grpcPort}"));
    }

    /// <summary>A plain-text channel for the tests' own calls (setting up pools, registering, acting as a sidecar).</summary>
    public GrpcChannel Channel() => GrpcChannel.ForAddress(GrpcAddress);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>The gateway is configured with a token's lower-case hex SHA-256, never the token.</summary>
    private static string Sha256(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
