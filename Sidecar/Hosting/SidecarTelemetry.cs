using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using OrleansControl.Sidecar.Telemetry;

namespace OrleansControl.Sidecar.Hosting;

/// <summary>
/// OpenTelemetry for the sidecar host, as the silo does it: the meter <see cref="SidecarMetrics.MeterName"/> scraped
/// by Prometheus at <c>/metrics</c> (on the control endpoint, and on the probe port when there is one); traces
/// (<see cref="SidecarTracing"/> and the gRPC client's calls to the controller) exported over OTLP when
/// <see cref="OtlpSetting"/> names an endpoint, and not collected at all otherwise.
/// </summary>
public static class SidecarTelemetry
{
    public const string ServiceName = "orleanscontrol-sidecar";

    /// <exception cref="ArgumentException">The OTLP endpoint setting is not a URI (the message names it).</exception>
    public static IServiceCollection AddSidecarTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        var otlp = OtlpSetting.Endpoint(configuration);
        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(ServiceName, serviceInstanceId: Environment.MachineName))
            .WithMetrics(metrics => metrics
                .AddMeter(SidecarMetrics.MeterName)
                .AddPrometheusExporter());
        if (otlp is not null)
        {
            telemetry.WithTracing(tracing => tracing.AddSidecarTracing().AddOtlpExporter(o => o.Endpoint = otlp));
        }

        return services;
    }

    /// <summary>What the sidecar traces: its own spans and its gRPC calls to the controller (with W3C context on the wire).</summary>
    public static TracerProviderBuilder AddSidecarTracing(this TracerProviderBuilder tracing) => tracing
        .AddSource(SidecarTracing.SourceName)
        .AddGrpcClientInstrumentation();

    /// <summary>GET /metrics in the Prometheus text format.</summary>
    public static IEndpointRouteBuilder MapSidecarMetrics(this IEndpointRouteBuilder app)
    {
        app.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }
}
