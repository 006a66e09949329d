using Microsoft.Extensions.Configuration;

namespace OrleansControl.Sidecar.Telemetry;

/// <summary>
/// Where traces go: <c>Telemetry:Otlp:Endpoint</c> (env <c>Telemetry__Otlp__Endpoint</c>) or the standard
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>; neither set, no spans are exported (tracing off, the default).
/// </summary>
public static class OtlpSetting
{
    public const string Key = "Telemetry:Otlp:Endpoint";
    public const string StandardKey = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>The endpoint, or null when tracing is off.</summary>
    /// <exception cref="ArgumentException">A value that is not an absolute http(s) URI; the message names the setting.</exception>
    public static Uri? Endpoint(IConfiguration configuration)
    {
        var (key, value) = configuration[Key] is { Length: > 0 } v ? (Key, v) : (StandardKey, configuration[StandardKey]);
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        return Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri
            : throw new ArgumentException($"{key} must be an absolute http(s) URI such as http://otel-collector:4317 ('{Bounded(value)}' is not)");
    }

    private static string Bounded(string value) => value.Length <= 100 ? value : value[..100] + "…";
}
