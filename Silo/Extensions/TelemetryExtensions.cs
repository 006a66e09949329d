using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Orleans.Diagnostics;
using OrleansControl.Gateway.Hosting;
using OrleansControl.Grains.Telemetry;

namespace OrleansControl.Silo.Extensions;

public static class TelemetryExtensions
{
    public const string OtlpEndpointKey = "Telemetry:Otlp:Endpoint";
    public const string StandardOtlpEndpointKey = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>
    /// OpenTelemetry metrics: the controller's own meter and Orleans' meter, scraped at /metrics. Traces (gateway
    /// requests, grain calls, command acknowledgements) exported over OTLP when <c>Telemetry:Otlp:Endpoint</c> or
    /// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set; not collected otherwise.
    /// </summary>
    public static WebApplicationBuilder AddControllerTelemetry(this WebApplicationBuilder builder, ControllerSiloOptions options)
    {
        var otlp = OtlpEndpoint(builder.Configuration);
        var telemetry = builder.Services.AddOpenTelemetry()
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
        if (otlp is not null)
            telemetry.WithTracing(tracing => tracing.AddControllerTracing().AddOtlpExporter(o => o.Endpoint = otlp));
        return builder;
    }

    /// <summary>
    /// What the controller traces: incoming gRPC and REST calls (not the probes), the gateway's own spans, and grain
    /// calls (Orleans' activity propagation, <c>AddActivityPropagation</c>, carries the context into them). Orleans
    /// files a grain call under its runtime source when the interface's namespace starts with "Orleans", which
    /// "OrleansControl.GrainInterfaces" does: so the runtime source too, not only the application one, with
    /// <see cref="OwnGrainCallsSampler"/> keeping Orleans' own calls out.
    /// </summary>
    public static TracerProviderBuilder AddControllerTracing(this TracerProviderBuilder tracing) => tracing
        .AddAspNetCoreInstrumentation(o => o.Filter = http => http.Request.Path.Value is not ("/healthz" or "/readyz" or "/metrics"))
        .AddSource(GatewayTracing.SourceName, ActivitySources.ApplicationGrainActivitySourceName, ActivitySources.RuntimeActivitySourceName)
        .SetSampler(new OwnGrainCallsSampler());

    /// <summary>The OTLP endpoint, null when tracing is off; a value that is not an http(s) URI is named in the error.</summary>
    internal static Uri? OtlpEndpoint(IConfiguration configuration)
    {
        var (key, value) = configuration[OtlpEndpointKey] is { Length: > 0 } v ? (OtlpEndpointKey, v) : (StandardOtlpEndpointKey, configuration[StandardOtlpEndpointKey]);
        if (string.IsNullOrWhiteSpace(value))
            return null;
        return Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri
            : throw new Microsoft.Extensions.Options.OptionsValidationException(key, typeof(Uri),
                [$"{key} must be an absolute http(s) URI such as http://otel-collector:4317 ('{(value.Length <= 100 ? value : value[..100] + "…")}' is not)"]);
    }
}
