using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OrleansControl.Grains.Telemetry;

namespace OrleansControl.Silo.Extensions;

public static class TelemetryExtensions
{
    /// <summary>OpenTelemetry metrics: the controller's own meter and Orleans' meter, scraped at /metrics.</summary>
    public static WebApplicationBuilder AddControllerTelemetry(this WebApplicationBuilder builder, ControllerSiloOptions options)
    {
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r
                .AddService("orleanscontrol-silo", serviceInstanceId: Environment.MachineName)
                .AddAttributes(
                [
                    new("orleanscontrol.region", options.Region),
                    new("orleanscontrol.role", options.Role.ToString().ToLowerInvariant()),
                    new("orleanscontrol.cluster_id", options.ClusterId),
                ]))
            .WithMetrics(metrics => metrics
            .AddMeter(ControllerMetrics.MeterName, "Microsoft.Orleans")
            .AddPrometheusExporter());
        return builder;
    }
}
