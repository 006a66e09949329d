using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OrleansControl.Gateway.Hosting;
using OrleansControl.Gateway.Security;
using OrleansControl.Silo.Extensions;

namespace OrleansControl.Gateway.Tests.Infrastructure;

/// <summary>
/// A full in-process controller: one silo (localhost clustering, memory storage) co-hosting the gateway on real
/// Kestrel loopback ports, composed exactly as Silo/Program.cs does.
/// </summary>
public sealed class GatewayHost : IAsyncDisposable
{
    public const string OperatorToken = "operator-token-for-tests";
    public const string ViewerToken = "viewer-token-for-tests";
    public static string SidecarToken(int n) => $"sidecar-{n}-token-for-tests";

    private readonly WebApplication _app;

    private GatewayHost(WebApplication app, int grpcPort, int restPort, bool tls)
    {
        _app = app;
        var scheme = tls ? "https" : "http";
        GrpcAddress = new Uri($"{scheme}://localhost:{grpcPort}");
        RestAddress = new Uri($"{scheme}://localhost:{restPort}");
    }

    public Uri GrpcAddress { get; }

    public Uri RestAddress { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<GatewayHost> StartAsync(string region = "local", Action<GatewayOptions>? configure = null,
        IDictionary<string, string?>? settings = null, int? grpcPort = null, Action<IServiceCollection>? services = null)
    {
        var grpc = grpcPort ?? FreePort.Next();
        var restPort = FreePort.Next();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Development" });
        var config = new Dictionary<string, string?>
        {
            ["Controller:Region"] = region,
            ["Controller:SiloPort"] = FreePort.Next().ToString(),
            ["Controller:GatewayPort"] = FreePort.Next().ToString(),
            ["Controller:ClusterId"] = $"gw-test-{Guid.NewGuid():N}",
            ["Gateway:GrpcPort"] = grpc.ToString(),
            ["Gateway:RestPort"] = restPort.ToString(),
            ["Gateway:Auth:AllowAnonymous"] = "false",
            ["Gateway:Auth:Tokens:0:Subject"] = "alice",
            ["Gateway:Auth:Tokens:0:Role"] = GatewayRoles.Operator,
            ["Gateway:Auth:Tokens:0:Sha256"] = BearerTokenHandler.Hash(OperatorToken),
        };
        // sidecar-1 .. sidecar-19, token "sidecar-N-token-for-tests" (one identity per stream test keeps outboxes apart;
        // 11 and up belong to the web view's tests).
        for (var i = 1; i <= 19; i++)
        {
            config[$"Gateway:Auth:Tokens:{i}:Subject"] = $"sidecar-{i}";
            config[$"Gateway:Auth:Tokens:{i}:Role"] = GatewayRoles.Sidecar;
            config[$"Gateway:Auth:Tokens:{i}:Sha256"] = BearerTokenHandler.Hash(SidecarToken(i));
        }
        config["Gateway:Auth:Tokens:20:Subject"] = "victor";
        config["Gateway:Auth:Tokens:20:Role"] = GatewayRoles.Viewer;
        config["Gateway:Auth:Tokens:20:Sha256"] = BearerTokenHandler.Hash(ViewerToken);
        // sidecar-20 .. sidecar-22 for the standby and session report tests (entry 20 is the viewer: they are 21 to 23).
        for (var i = 20; i <= 22; i++)
        {
            config[$"Gateway:Auth:Tokens:{i + 1}:Subject"] = $"sidecar-{i}";
            config[$"Gateway:Auth:Tokens:{i + 1}:Role"] = GatewayRoles.Sidecar;
            config[$"Gateway:Auth:Tokens:{i + 1}:Sha256"] = BearerTokenHandler.Hash(SidecarToken(i));
        }
        // sidecar-8 declares scheme servers (server mode) into the "declared-…" pools of its test; sidecar-10 into (and
        // reports sessions of) "mine-…" only.
        config["Gateway:Auth:ServerPools:0:Sidecar"] = "sidecar-8";
        config["Gateway:Auth:ServerPools:0:Pools:0"] = "declared-*";
        config["Gateway:Auth:ServerPools:1:Sidecar"] = "sidecar-10";
        config["Gateway:Auth:ServerPools:1:Pools:0"] = "mine-*";
        // sidecar-22 reports the sessions of servers of pool "scheme" (a server's sidecar reports only for its granted pools).
        config["Gateway:Auth:ServerPools:2:Sidecar"] = "sidecar-22";
        config["Gateway:Auth:ServerPools:2:Pools:0"] = "scheme";
        foreach (var (k, v) in settings ?? new Dictionary<string, string?>()) config[k] = v;
        builder.Configuration.AddInMemoryCollection(config);
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);

        var tls = false;
        builder.AddControllerSilo();
        builder.AddControllerGateway(o =>
        {
            configure?.Invoke(o);
            tls = o.Tls.ServerCertificate is not null;
        });
        services?.Invoke(builder.Services);
        var app = builder.Build();
        app.MapControllerSilo();
        app.MapControllerGateway();
        await app.StartAsync();
        return new GatewayHost(app, grpc, restPort, tls);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
