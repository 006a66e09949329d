using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OrleansControl.Sidecar.Telemetry;

namespace OrleansControl.Sidecar.Hosting;

/// <summary>
/// OpenTelemetry for the sidecar host, as the silo does it: the meter <see cref="SidecarMetrics.MeterName"/> scraped
/// by Prometheus at <c>/metrics</c> (on the control endpoint, and on the probe port when there is one).
/// </summary>
public static class SidecarTelemetry
{
    public const string ServiceName = "orleanscontrol-sidecar";

    public static IServiceCollection AddSidecarTelemetry(this IServiceCollection services)
    {
        services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(ServiceName, serviceInstanceId: Environment.MachineName))
            .WithMetrics(metrics => metrics
                .AddMeter(SidecarMetrics.MeterName)
                .AddPrometheusExporter());
        return services;
    }

    /// <summary>GET /metrics in the Prometheus text format.</summary>
    public static IEndpointRouteBuilder MapSidecarMetrics(this IEndpointRouteBuilder app)
    {
        app.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }
}
