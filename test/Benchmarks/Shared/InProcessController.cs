using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using OrleansControl.Gateway.Hosting;
using OrleansControl.Silo.Extensions;

namespace OrleansControl.Benchmarks.Shared;

/// <summary>
/// The controller as <c>dotnet run --project Silo</c> composes it (one silo, memory storage, gateway co-hosted on
/// loopback h2c), on free ports, for the load tools that drive it over real gRPC.
/// </summary>
internal static class InProcessController
{
    /// <summary>Starts one; <paramref name="grpcPort"/> pins the gateway's port (a controller started again where its sidecars look).</summary>
    public static async Task<(WebApplication App, int GrpcPort)> StartAsync(
        IDictionary<string, string?> settings, Action<ISiloBuilder>? configureSilo = null,
        Action<GatewayOptions>? configureGateway = null, int? grpcPort = null)
    {
        var port = grpcPort ?? FreePort();
        var builder = WebApplication.CreateBuilder();
        var all = new Dictionary<string, string?>
        {
            ["Controller:SiloPort"] = FreePort().ToString(),
            ["Controller:GatewayPort"] = FreePort().ToString(),
            ["Controller:ClusterId"] = $"bench-{Guid.NewGuid():N}",
            ["Gateway:GrpcPort"] = port.ToString(),
            ["Gateway:RestPort"] = FreePort().ToString(),
        };
        foreach (var (key, value) in settings) all[key] = value;
        builder.Configuration.AddInMemoryCollection(all);
        builder.Logging.ClearProviders();
        builder.AddControllerSilo(configureSilo);
        builder.AddControllerGateway(configureGateway);
        var app = builder.Build();
        app.MapControllerSilo();
        app.MapControllerGateway();
        await app.StartAsync();
        return (app, port);
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>Reads <c>--name value</c> options of a load tool.</summary>
internal static class ToolArgs
{
    public static int Int(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], out var v) ? v : fallback;
    }

    public static string String(string[] args, string name, string fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }
}
