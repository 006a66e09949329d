using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Memory;

namespace OrleansControl.Sidecar.Hosting;

/// <summary>
/// The console log format of our processes, as configuration beneath every other source so any
/// <c>Logging:Console:*</c> setting still wins: one line per entry with a UTC timestamp (the simple formatter) by
/// default; <c>Logging:Console:FormatterName=json</c> (env <c>Logging__Console__FormatterName=json</c>, what deploy/
/// sets in containers) gives one JSON object per line with the same UTC timestamp.
/// </summary>
public static class ConsoleLogFormat
{
    public const string FormatterNameKey = "Logging:Console:FormatterName";

    public static IConfigurationBuilder AddConsoleLogDefaults(this IConfigurationBuilder configuration)
    {
        var json = string.Equals(configuration.Build()[FormatterNameKey], "json", StringComparison.OrdinalIgnoreCase);
        configuration.Sources.Insert(0, new MemoryConfigurationSource { InitialData = Defaults(json) });
        return configuration;
    }

    /// <param name="json">JSON puts the timestamp in a field of its own: no trailing separator.</param>
    public static Dictionary<string, string?> Defaults(bool json) => new()
    {
        [FormatterNameKey] = "simple",
        ["Logging:Console:FormatterOptions:SingleLine"] = "true",
        ["Logging:Console:FormatterOptions:UseUtcTimestamp"] = "true",
        ["Logging:Console:FormatterOptions:TimestampFormat"] = json ? "yyyy-MM-dd'T'HH:mm:ss.fff'Z'" : "yyyy-MM-dd'T'HH:mm:ss.fff'Z' ",
    };
}
