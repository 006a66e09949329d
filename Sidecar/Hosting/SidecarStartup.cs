using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansControl.Hosting;
using OrleansControl.Sidecar.Agent;
using OrleansControl.Sidecar.Client;
using OrleansControl.Sidecar.Relay;

namespace OrleansControl.Sidecar.Hosting;

/// <summary>
/// How the sidecar container starts (the managed ISO 8583 link, its controller agent, the optional local relay port,
/// the control endpoint on localhost, http://localhost:8081/control by default, and, when <c>Sidecar:Probes:Url</c> is
/// set, the kubelet's /healthz and /readyz on a port of their own; Prometheus' /metrics on both) and how it says why it
/// could not: as the silo does, one message naming every bad setting, exit code 2, no stack trace unless
/// <c>--verbose</c> or <c>ORLEANSCONTROL_VERBOSE=1</c>.
/// </summary>
public static class SidecarStartup
{
    public const int BadStart = StartupRefusal.ExitCode;
    private const string ProcessName = "orleanscontrol-sidecar";
    private const string ControlUrl = "Sidecar:Control:Url";
    private const string ProbesUrl = "Sidecar:Probes:Url";

    public static async Task<int> RunAsync(string[] args)
    {
        var verbose = StartupRefusal.IsVerbose(args);
        var builder = WebApplication.CreateBuilder(StartupRefusal.HostArgs(args));
        builder.Configuration.AddConsoleLogDefaults();
        if (!verbose)
        {
            // The host logs a failed start with the whole exception; the message below says what matters.
            builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        }

        var control = builder.Configuration[ControlUrl] ?? "http://localhost:8081";
        var probes = builder.Configuration[ProbesUrl];
        try
        {
            builder.WebHost.UseUrls(probes is { Length: > 0 } ? [control, probes] : [control]);
            builder.Services.AddSidecar();
            var failures = new List<string>();
            if (OtlpProblem(builder.Configuration) is { } otlp)
                failures.Add(otlp);
            else
                builder.Services.AddSidecarTelemetry(builder.Configuration);

            await using var app = builder.Build();
            // Every section at once, before anything listens or dials out: each of ours on its own (a value the binder
            // cannot read ends that section's validation only), then whatever else asked to be validated on start.
            Exception? invalid = null;
            var sp = app.Services;
            foreach (var validate in new Action[]
            {
                () => _ = sp.GetRequiredService<IOptions<IsoClientOptions>>().Value,
                () => _ = sp.GetRequiredService<IOptions<SidecarAgentOptions>>().Value,
                () => _ = sp.GetRequiredService<IOptions<RelayOptions>>().Value,
                () => sp.GetRequiredService<IStartupValidator>().Validate(),
            })
            {
                try
                {
                    validate();
                }
                catch (Exception ex) when (StartupRefusal.SettingsFailures(ex) is { Count: > 0 } found)
                {
                    invalid ??= ex;
                    failures.AddRange(found.Except(failures));
                }
            }
            if (failures.Count > 0)
                return StartupRefusal.Refuse(ProcessName, StartupRefusal.BadSettings(failures), invalid, verbose);
            if (probes is { Length: > 0 })
                app.MapSidecarProbes(new Uri(probes.Replace("0.0.0.0", "localhost", StringComparison.Ordinal)).Port);
            app.MapSidecarControl();
            app.MapSidecarMetrics();
            await app.RunAsync();
            return Environment.ExitCode;
        }
        catch (Exception ex) when (Explain(ex, control, probes) is { } message)
        {
            return StartupRefusal.Refuse(ProcessName, message, ex, verbose);
        }
    }

    private static string? OtlpProblem(IConfiguration configuration)
    {
        try
        {
            Telemetry.OtlpSetting.Endpoint(configuration);
            return null;
        }
        catch (ArgumentException e)
        {
            return e.Message;
        }
    }

    /// <summary>What an operator should read for a start that failed on settings or a port; null for anything else (a crash stays a crash).</summary>
    internal static string? Explain(Exception ex, string control, string? probes)
    {
        var settings = StartupRefusal.SettingsFailures(ex);
        if (settings.Count > 0)
            return StartupRefusal.BadSettings(settings);
        if (StartupRefusal.Flatten(ex).FirstOrDefault(StartupRefusal.IsAddressInUse) is { } inUse)
            return $"cannot start: {inUse.Message.TrimEnd('.')}; a port is in use by another process. The ports are set by "
                   + $"{ControlUrl} ({control}){(probes is { Length: > 0 } ? $" and {ProbesUrl} ({probes})" : "")}.";
        if (StartupRefusal.Flatten(ex).FirstOrDefault(e => e is UriFormatException) is { } badUri)
            return StartupRefusal.BadSettings([$"{ControlUrl} / {ProbesUrl} must be absolute URLs such as http://localhost:8081 ({badUri.Message.TrimEnd('.')})"]);
        return null;
    }
}
