using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OrleansControl.Silo.Extensions;

namespace OrleansControl.Grains.Tests.Silo;

/// <summary>The silo's own composition (AddControllerSilo + MapControllerSilo) on a loopback port, with test settings.</summary>
public static class SiloHost
{
    public static WebApplication Build(IDictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Test" });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.AddControllerSilo();
        var app = builder.Build();
        app.MapControllerSilo();
        return app;
    }

    public static Uri BaseAddress(WebApplication app) =>
        new(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

    public static int FreePort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>Distinct silo and gateway ports so parallel test hosts never collide with 11111/30000.</summary>
    public static Dictionary<string, string?> Ports() => new()
    {
        ["Controller:SiloPort"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Controller:GatewayPort"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
