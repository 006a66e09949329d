using System.Text.Json;
using OrleansControl.Occtl.Tests.Infrastructure;

namespace OrleansControl.Occtl.Tests;

/// <summary>Contexts for the two regions' gateways, and which setting wins: flag, then OCCTL_*, then the context.</summary>
[Collection(GatewayCollection.Name)]
public sealed class ConfigTests(GatewayFixture fixture) : IDisposable
{
    // No OCCTL_GATEWAY, no OCCTL_TOKEN: everything comes from the config file unless a test says otherwise.
    private readonly OcctlRunner _occtl = new(gateway: null, token: null);
    private readonly string _unreachable = $"http://127.0.0.1:{ControllerHost.FreePort()}";

    private void WriteConfig(string current = "bank")
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_occtl.ConfigPath)!);
        File.WriteAllText(Path.Combine(Path.GetDirectoryName(_occtl.ConfigPath)!, "bank.token"), ControllerHost.OperatorToken + "\n");
        File.WriteAllText(_occtl.ConfigPath, $$"""
            {
              // the bank region: the test's gateway, the token in a file beside this one
              "currentContext": "{{current}}",
              "contexts": {
                "bank":   { "gateway": "{{fixture.Host.GrpcAddress}}", "tokenFile": "bank.token", "pools": ["bank-pool"] },
                "scheme": { "gateway": "{{_unreachable}}", "token": "scheme-secret" }
              }
            }
            """);
    }

    [Fact]
    public async Task Get_contexts_lists_both_regions_marks_the_current_and_shows_no_secret()
    {
        WriteConfig();

        var result = await _occtl.RunAsync("config", "get-contexts");

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^\*\s+bank\s+http://localhost:\d+/\s+token", lines.Single(l => l.Contains("bank")));
        Assert.Matches(@"^\s+scheme\s+http://127\.0\.0\.1:\d+\s+token", lines.Single(l => l.Contains("scheme")));
        Assert.DoesNotContain("scheme-secret", result.Output);
        Assert.DoesNotContain(ControllerHost.OperatorToken, result.Output);
    }

    [Fact]
    public async Task Commands_use_the_current_context_and_use_context_switches_it()
    {
        WriteConfig();

        var bank = await _occtl.RunAsync("connections", "-o", "json");
        var switched = await _occtl.RunAsync("config", "use-context", "scheme");
        var current = await _occtl.RunAsync("config", "current-context");
        var scheme = await _occtl.RunAsync("connections");

        Assert.True(bank.ExitCode == 0, bank.ToString());
        Assert.Equal(0, switched.ExitCode);
        Assert.Equal("Switched to context \"scheme\".", switched.Output.Trim());
        Assert.Equal("scheme", current.Output.Trim());
        Assert.Equal(ExitCodes.Unreachable, scheme.ExitCode);
        Assert.Contains(_unreachable, scheme.Error);
        // The rest of the file is kept.
        var file = JsonDocument.Parse(File.ReadAllText(_occtl.ConfigPath)).RootElement;
        Assert.Equal("scheme", file.GetProperty("currentContext").GetString());
        Assert.Equal("bank.token", file.GetProperty("contexts").GetProperty("bank").GetProperty("tokenFile").GetString());
    }

    [Fact]
    public async Task A_flag_beats_the_environment_which_beats_the_context()
    {
        WriteConfig(current: "scheme");

        _occtl.Environment["OCCTL_CONTEXT"] = "bank";
        var fromEnvironmentContext = await _occtl.RunAsync("connections");
        var fromFlagContext = await _occtl.RunAsync("connections", "--context", "scheme");
        _occtl.Environment["OCCTL_GATEWAY"] = _unreachable;
        var fromEnvironmentGateway = await _occtl.RunAsync("connections");
        var fromFlagGateway = await _occtl.RunAsync("connections", "--gateway", fixture.Host.GrpcAddress.ToString());
        _occtl.Environment["OCCTL_TOKEN"] = "wrong";
        var fromEnvironmentToken = await _occtl.RunAsync("connections", "--gateway", fixture.Host.GrpcAddress.ToString());

        Assert.True(fromEnvironmentContext.ExitCode == 0, fromEnvironmentContext.ToString());
        Assert.Equal(ExitCodes.Unreachable, fromFlagContext.ExitCode);
        Assert.Equal(ExitCodes.Unreachable, fromEnvironmentGateway.ExitCode);
        Assert.True(fromFlagGateway.ExitCode == 0, fromFlagGateway.ToString());
        Assert.Equal(ExitCodes.NotAuthenticated, fromEnvironmentToken.ExitCode);
    }

    [Fact]
    public async Task An_unknown_context_is_exit_3_naming_the_known_ones()
    {
        WriteConfig();

        var use = await _occtl.RunAsync("config", "use-context", "mars");
        var run = await _occtl.RunAsync("connections", "--context", "mars");

        Assert.Equal(ExitCodes.NotFound, use.ExitCode);
        Assert.Contains("context 'mars'", use.Error);
        Assert.Contains("known: bank, scheme", use.Error);
        Assert.Equal(ExitCodes.NotFound, run.ExitCode);
    }

    [Theory]
    [InlineData("{ \"contexts\": { \"bank\": { \"gateway\": \"x\", \"tokne\": \"t\" } } }", "tokne")]
    [InlineData("{ \"contexts\": { \"bank\": { \"gateway\": ", "line")]
    [InlineData("{ \"currentContext\": \"bank\", \"contexts\": { \"bank\": { \"requestTimeout\": \"later\" } } }", "requestTimeout")]
    public async Task A_broken_config_file_is_exit_2_naming_the_file_and_what_is_wrong(string content, string named)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_occtl.ConfigPath)!);
        File.WriteAllText(_occtl.ConfigPath, content);

        var result = await _occtl.RunAsync("connections");

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains(named, result.Error);
        Assert.DoesNotContain("   at ", result.Error);
    }

    [Fact]
    public async Task A_named_config_file_that_does_not_exist_is_exit_2()
    {
        var result = await _occtl.RunAsync("connections", "--config", "/nonexistent/occtl.json");

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("/nonexistent/occtl.json: no such file (--config)", result.Error);
    }

    public void Dispose() => _occtl.Dispose();
}
