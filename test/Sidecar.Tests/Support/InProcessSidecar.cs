using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OrleansControl.Sidecar.Hosting;

namespace OrleansControl.Sidecar.Tests.Support;

/// <summary>The sidecar host composed as Sidecar/Host composes it, in this process, on loopback port 0.</summary>
internal static class InProcessSidecar
{
    public static async Task<WebApplication> StartAsync(Dictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddSidecar();
        var app = builder.Build();
        app.MapSidecarControl();
        await app.StartAsync();
        return app;
    }

    public static HttpClient ControlClient(WebApplication app) => new()
    {
        BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()),
    };
}
