using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OrleansControl.Gateway.Hosting;
using OrleansControl.Silo.Extensions;

namespace OrleansControl.EndToEnd.Tests;

/// <summary>The controller exactly as <c>dotnet run --project Silo</c> composes it, on free loopback ports.</summary>
internal sealed class ControllerHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private bool _stopped;

    private ControllerHost(WebApplication app, int grpcPort, int restPort)
    {
        _app = app;
        GrpcAddress = $"http://127.0.0.1:{grpcPort}";
        RestAddress = new Uri($"http://127.0.0.1:{restPort}");
    }

    public string GrpcAddress { get; }

    public Uri RestAddress { get; }

    public IClusterClient Grains => _app.Services.GetRequiredService<IClusterClient>();

    public static async Task<ControllerHost> StartAsync(TimeSpan heartbeatInterval)
    {
        var grpcPort = FreePort();
        var restPort = FreePort();
        var builder = WebApplication.CreateBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Controller:SiloPort"] = FreePort().ToString(),
            ["Controller:GatewayPort"] = FreePort().ToString(),
            ["Controller:ClusterId"] = $"e2e-{Guid.NewGuid():N}",
            ["Controller:Health:HeartbeatInterval"] = heartbeatInterval.ToString(),
            ["Gateway:GrpcPort"] = grpcPort.ToString(),
            ["Gateway:RestPort"] = restPort.ToString(),
            ["Gateway:HeartbeatInterval"] = heartbeatInterval.ToString(),
        });
        builder.Logging.ClearProviders();
        builder.AddControllerSilo();
        builder.AddControllerGateway();
        var app = builder.Build();
        app.MapControllerSilo();
        app.MapControllerGateway();
        await app.StartAsync();
        return new ControllerHost(app, grpcPort, restPort);
    }

    public async Task StopAsync()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        await _app.StopAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _app.DisposeAsync();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
