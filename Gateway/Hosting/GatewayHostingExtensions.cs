using Microsoft.AspNetCore.Builder;

namespace OrleansControl.Gateway.Hosting;

/// <summary>
/// How a host (the silo co-hosting the gateway, or a stand-alone gateway) composes the gateway.
/// The host calls <see cref="AddControllerGateway"/> before Build and <see cref="MapControllerGateway"/> after.
/// </summary>
public static class GatewayHostingExtensions
{
    public static WebApplicationBuilder AddControllerGateway(this WebApplicationBuilder builder) => builder;

    public static WebApplication MapControllerGateway(this WebApplication app) => app;
}
