using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using OrleansControl.EndToEnd.Tests.Processes;

namespace OrleansControl.EndToEnd.Tests;

/// <summary>The controller and sidecar processes refusing to start: exit code 2, one message naming what is wrong, no stack trace.</summary>
public sealed partial class StartupFailureTests
{
    [Fact]
    public async Task Several_bad_settings_end_the_silo_with_exit_code_2_and_one_message_naming_every_one_without_a_stack_trace()
    {
        var run = await RunSiloAsync(new()
        {
            ["Controller__Clustering"] = "zookeeper",
            ["Controller__SiloPort"] = "abc",
            ["Controller__Health__MissedHeartbeatsBeforeFailed"] = "0",
            ["Controller__Ejection__MaxEjectionPercent"] = "0",
            ["Gateway__GrpcPort"] = "70000",
            ["Gateway__Ui__RefreshInterval"] = "00:00:00.01",
            ["Telemetry__Otlp__Endpoint"] = "not a uri",
        });

        Assert.Equal(2, run.ExitCode);
        foreach (var setting in new[] { "Controller:Clustering", "Controller:SiloPort", "Controller:Health:MissedHeartbeatsBeforeFailed",
                     "Controller:Ejection:MaxEjectionPercent", "Gateway:GrpcPort", "Gateway:Ui:RefreshInterval", "Telemetry:Otlp:Endpoint" })
        {
            Assert.Contains(setting, run.Output, StringComparison.Ordinal);
        }

        Assert.Contains("Controller:SiloPort: 'abc' is not a whole number", run.Output, StringComparison.Ordinal);
        Assert.Contains("Gateway:Ui:RefreshInterval must be 100 ms..1 min", run.Output, StringComparison.Ordinal);
        Assert.Contains("invalid settings", run.Output, StringComparison.Ordinal);
        AssertNoStackTraceOrTypeNames(run.Output);
    }

    [Fact]
    public async Task A_port_in_use_ends_the_silo_with_exit_code_2_naming_the_port_and_the_setting_that_moves_it()
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var port = ((IPEndPoint)holder.LocalEndpoint).Port;

        var run = await RunSiloAsync(new() { ["Gateway__GrpcPort"] = port.ToString() });

        Assert.Equal(2, run.ExitCode);
        Assert.Contains($"port {port} is in use", run.Output, StringComparison.Ordinal);
        Assert.Contains("Gateway:GrpcPort", run.Output, StringComparison.Ordinal);
        AssertNoStackTraceOrTypeNames(run.Output);
    }

    [Fact]
    public async Task A_silo_that_starts_logs_one_line_per_entry_each_starting_with_a_utc_timestamp()
    {
        var dll = BuildOutput.Silo;
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = Path.GetDirectoryName(dll)!, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(dll);
        foreach (var key in new[] { "Controller__SiloPort", "Controller__GatewayPort", "Gateway__GrpcPort", "Gateway__RestPort" })
        {
            start.Environment[key] = LoopbackPorts.Next().ToString();
        }

        using var process = Process.Start(start)!;
        var lines = new List<string>();
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                lines.Add(line);
                if (line.Contains("Controller started", StringComparison.OrdinalIgnoreCase) || line.Contains("Application started", StringComparison.Ordinal))
                {
                    break;
                }
            }
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        Assert.NotEmpty(lines);
        Assert.All(lines, l => Assert.Matches(LogLevelAfterTimestamp(), l));
    }

    [Fact]
    public async Task Verbose_start_shows_the_exception_too()
    {
        var run = await RunSiloAsync(new() { ["Controller__Role"] = "acquirer" }, "--verbose");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("Controller:Role", run.Output, StringComparison.Ordinal);
        Assert.Contains("OptionsValidationException", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Several_bad_settings_end_the_sidecar_host_with_exit_code_2_and_one_message_naming_every_one_without_a_stack_trace()
    {
        var run = await RunSidecarHostAsync(new()
        {
            ["Sidecar__Link__EchoInterval"] = "00:00:00.100",
            ["Sidecar__Link__EchoMissesBeforeDown"] = "0",
            ["Sidecar__Agent__HeartbeatInterval"] = "soon",
            ["Sidecar__Relay__Listen"] = "nowhere",
            ["Sidecar__Relay__DetailField"] = "3",
            ["Telemetry__Otlp__Endpoint"] = "not a uri",
        });

        Assert.Equal(2, run.ExitCode);
        foreach (var setting in new[] { "Sidecar:Link:EchoInterval", "Sidecar:Link:EchoMissesBeforeDown", "Sidecar:Relay:Listen",
                     "Sidecar:Relay:DetailField", "Telemetry:Otlp:Endpoint" })
        {
            Assert.Contains(setting, run.Output, StringComparison.Ordinal);
        }

        Assert.Contains("Sidecar:Agent:HeartbeatInterval: 'soon' is not a duration", run.Output, StringComparison.Ordinal);
        Assert.Contains("6 invalid settings", run.Output, StringComparison.Ordinal);
        AssertNoStackTraceOrTypeNames(run.Output);
    }

    [Fact]
    public async Task Verbose_sidecar_host_start_shows_the_exception_too()
    {
        var run = await RunSidecarHostAsync(new() { ["Sidecar__Link__EchoMissesBeforeDown"] = "0" }, "--verbose");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("Sidecar:Link:EchoMissesBeforeDown", run.Output, StringComparison.Ordinal);
        Assert.Contains("OptionsValidationException", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_settings_end_the_scheme_server_sample_with_exit_code_2_naming_every_one_without_a_stack_trace()
    {
        var run = await RunAsync(BuildOutput.SchemeServer, [], new()
        {
            ["SCHEME__LISTEN"] = "nowhere",
            ["SCHEME__MAXSESSIONS"] = "lots",
            ["SCHEME__REPORTINTERVAL"] = "soon",
        }, []);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("3 invalid settings", run.Output, StringComparison.Ordinal);
        Assert.Contains("Listen must be host:port", run.Output, StringComparison.Ordinal);
        Assert.Contains("MaxSessions: 'lots' is not a whole number", run.Output, StringComparison.Ordinal);
        Assert.Contains("ReportInterval: 'soon' is not a duration", run.Output, StringComparison.Ordinal);
        AssertNoStackTraceOrTypeNames(run.Output);
    }

    private static void AssertNoStackTraceOrTypeNames(string output)
    {
        Assert.DoesNotMatch(@"(?m)^\s+at \S", output);
        Assert.DoesNotContain("Exception", output, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", output, StringComparison.Ordinal);
    }

    private static Task<(int ExitCode, string Output)> RunSiloAsync(Dictionary<string, string> environment, params string[] args) =>
        RunAsync(BuildOutput.Silo, ["Controller__SiloPort", "Controller__GatewayPort", "Gateway__GrpcPort", "Gateway__RestPort"], environment, args);

    private static Task<(int ExitCode, string Output)> RunSidecarHostAsync(Dictionary<string, string> environment, params string[] args)
    {
        // A free control port; the relay's default port (8583) is never bound: the host refuses before it listens.
        environment.TryAdd("Sidecar__Control__Url", $"http://127.0.0.1:{LoopbackPorts.Next()}");
        return RunAsync(BuildOutput.SidecarHost, [], environment, args);
    }

    /// <summary>Runs a built host to its end, with free ports for <paramref name="portKeys"/> unless set.</summary>
    private static async Task<(int ExitCode, string Output)> RunAsync(string dll, string[] portKeys, Dictionary<string, string> environment, string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(dll);
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        // Free ports for whatever is not under test, so nothing else collides.
        foreach (var key in portKeys)
        {
            start.Environment[key] = LoopbackPorts.Next().ToString();
        }

        start.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await stdout + await stderr);
    }

    [GeneratedRegex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (trce|dbug|info|warn|fail|crit): ")]
    private static partial Regex LogLevelAfterTimestamp();
}
