using System.Net.Sockets;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using OrleansControl.Gateway.Hosting;
using OrleansControl.Hosting;

namespace OrleansControl.Silo.Extensions;

/// <summary>
/// How the controller process starts and how it says why it could not: one message naming every bad setting (all
/// sections, silo and gateway), or the port in use and the setting that moves it; exit code
/// <see cref="ExitCodes.BadStart"/>; no stack trace unless asked for (<c>--verbose</c> or <c>ORLEANSCONTROL_VERBOSE=1</c>).
/// </summary>
public static partial class SiloStartup
{
    public const string VerboseFlag = StartupRefusal.VerboseFlag;
    public const string VerboseVariable = StartupRefusal.VerboseVariable;
    private const string ProcessName = "orleanscontrol-silo";

    /// <summary>The ports the controller listens on, with the setting that moves each and its default.</summary>
    private static readonly (string Key, int Default)[] PortSettings =
    [
        ("Gateway:GrpcPort", 9090), ("Gateway:RestPort", 8080), ("Controller:SiloPort", 11111),
        ("Controller:GatewayPort", 30000), ("Controller:ProbePort", 0),
    ];

    public static async Task<int> RunAsync(string[] args)
    {
        var verbose = StartupRefusal.IsVerbose(args);
        var builder = WebApplication.CreateBuilder(StartupRefusal.HostArgs(args));
        if (!verbose)
        {
            // The host logs a failed start with the whole exception; the message below says what matters.
            builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        }
        try
        {
            var failures = new List<string>();
            OptionsValidationException? siloFailure = null;
            try
            {
                builder.AddControllerSilo();
            }
            catch (OptionsValidationException ex)
            {
                siloFailure = ex;
                failures.AddRange(ex.Failures);
            }
            failures.AddRange(GatewayHostingExtensions.SettingsProblems(builder.Configuration));
            if (failures.Count > 0)
                return StartupRefusal.Refuse(ProcessName, StartupRefusal.BadSettings(failures), siloFailure, verbose);
            // Before anything starts: the silo would be up (and log its shutdown at length) when Kestrel found its port taken.
            if (BusyPort(builder.Configuration) is { } busy)
                return StartupRefusal.Refuse(ProcessName, busy, null, verbose);

            builder.AddControllerGateway();
            await using var app = builder.Build();
            app.MapControllerSilo();
            app.MapControllerGateway();
            await app.RunAsync();
            // A service that stopped the host on purpose set the code (MembershipTableWatch: 75); a plain stop is 0.
            return Environment.ExitCode;
        }
        catch (Exception ex) when (Explain(ex, builder.Configuration) is { } message)
        {
            return StartupRefusal.Refuse(ProcessName, message, ex, verbose);
        }
    }

    /// <summary>What an operator should read for a start that failed on settings or a port; null for anything else (a crash stays a crash).</summary>
    internal static string? Explain(Exception ex, IConfiguration configuration)
    {
        var settings = StartupRefusal.SettingsFailures(ex);
        if (settings.Count > 0)
            return StartupRefusal.BadSettings(settings);
        if (StartupRefusal.Flatten(ex).FirstOrDefault(StartupRefusal.IsAddressInUse) is not { } inUse)
            return null;
        var port = PortIn(inUse.Message);
        var named = PortSettings.Where(p => port is not null && Configured(configuration, p) == port).Select(p => p.Key).ToList();
        return named.Count > 0
            ? InUse(port!.Value, named)
            : $"cannot start: {inUse.Message.TrimEnd('.')}; a port is in use by another process. The ports are set by {string.Join(", ", PortSettings.Select(p => $"{p.Key} ({Configured(configuration, p)})"))}.";
    }

    /// <summary>The first configured port another process holds, said with the setting that moves it; null when all are free.</summary>
    internal static string? BusyPort(IConfiguration configuration)
    {
        foreach (var setting in PortSettings)
        {
            if (Configured(configuration, setting) is not { } port || port is <= 0 or > 65535)
                continue;
            try
            {
                // Any address: a port held on any interface (loopback included) is refused there too.
                using var probe = new TcpListener(System.Net.IPAddress.Any, port);
                probe.Start();
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
            {
                return InUse(port, [setting.Key]);
            }
        }
        return null;
    }

    private static string InUse(int port, IReadOnlyList<string> settings) =>
        $"cannot start: port {port} is in use by another process; free it or move it with {string.Join(" / ", settings)} (env {string.Join(" / ", settings.Select(k => k.Replace(":", "__", StringComparison.Ordinal)))}).";

    private static int? Configured(IConfiguration configuration, (string Key, int Default) setting) =>
        int.TryParse(configuration[setting.Key], out var v) ? v : setting.Default;

    private static int? PortIn(string message) => PortPattern().Match(message) is { Success: true } m ? int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : null;

    [GeneratedRegex(@":(\d{1,5})(?:\D|$)")]
    private static partial Regex PortPattern();
}

/// <summary>The controller process's exit codes (README, docs/grains.md).</summary>
public static class ExitCodes
{
    /// <summary>Refused to start: invalid settings, or a port in use.</summary>
    public const int BadStart = StartupRefusal.ExitCode;
}
