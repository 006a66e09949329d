using OrleansControl.Occtl.Tests.Infrastructure;

namespace OrleansControl.Occtl.Tests;

/// <summary>What a script sees when something is wrong: a documented exit code and one line that names it.</summary>
[Collection(GatewayCollection.Name)]
public sealed class ErrorTests(GatewayFixture fixture) : IDisposable
{
    private readonly OcctlRunner _occtl = new(fixture.Host.GrpcAddress);

    private static void AssertOneLineNoStackTrace(OcctlResult result)
    {
        Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain("   at ", result.Error);
        Assert.DoesNotContain("Exception", result.Error);
    }

    [Fact]
    public async Task A_bad_token_is_exit_6_naming_UNAUTHENTICATED()
    {
        var result = await _occtl.RunAsync("connections", "--token", "not-a-token-anyone-has");

        Assert.Equal(ExitCodes.NotAuthenticated, result.ExitCode);
        Assert.StartsWith("occtl: ListConnections: UNAUTHENTICATED: ", result.Error);
        Assert.Contains("--token", result.Error);
        Assert.DoesNotContain("not-a-token-anyone-has", result.Error);
        AssertOneLineNoStackTrace(result);
    }

    [Fact]
    public async Task No_credentials_on_a_gateway_without_anonymous_access_is_exit_6()
    {
        _occtl.Environment.Remove("OCCTL_TOKEN");

        var result = await _occtl.RunAsync("servers", "any-pool");

        Assert.Equal(ExitCodes.NotAuthenticated, result.ExitCode);
        Assert.StartsWith("occtl: ListServers: UNAUTHENTICATED", result.Error);
    }

    [Fact]
    public async Task A_sidecars_token_is_not_an_operators_exit_6_naming_PERMISSION_DENIED()
    {
        var result = await _occtl.RunAsync("server-health", "any-pool", "srv-a", "unhealthy", "--token", ControllerHost.SidecarToken(3));

        Assert.Equal(ExitCodes.NotAuthenticated, result.ExitCode);
        Assert.StartsWith("occtl: SetServerHealth: PERMISSION_DENIED: ", result.Error);
    }

    [Fact]
    public async Task An_unreachable_gateway_is_exit_5_naming_the_address()
    {
        var nobody = $"http://127.0.0.1:{ControllerHost.FreePort()}";

        var result = await _occtl.RunAsync("connections", "--gateway", nobody);

        Assert.Equal(ExitCodes.Unreachable, result.ExitCode);
        Assert.StartsWith($"occtl: ListConnections: cannot reach the gateway at {nobody}/: ", result.Error);
        Assert.Contains("refused", result.Error, StringComparison.OrdinalIgnoreCase);
        AssertOneLineNoStackTrace(result);
    }

    [Fact]
    public async Task A_watch_that_cannot_start_is_an_error_not_a_silent_retry()
    {
        var result = await _occtl.RunAsync("events", "--gateway", $"http://127.0.0.1:{ControllerHost.FreePort()}");

        Assert.Equal(ExitCodes.Unreachable, result.ExitCode);
        Assert.StartsWith("occtl: WatchConnections: cannot reach the gateway", result.Error);
    }

    [Fact]
    public async Task An_invalid_argument_from_the_gateway_is_exit_2_naming_the_field()
    {
        var result = await _occtl.RunAsync("connection", "bad id with spaces");

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.StartsWith("occtl: GetConnection: INVALID_ARGUMENT: connection_id", result.Error);
    }

    [Theory]
    [InlineData("connections", "--bogus")]
    [InlineData("connections", "--status", "sleepy")]
    [InlineData("connections", "-o", "xml")]
    [InlineData("connections", "--page-size", "0")]
    [InlineData("drain", "srv-a")]
    [InlineData("drain", "srv-a", "--pool", "p", "--timeout", "soon")]
    [InlineData("no-such-command")]
    public async Task Bad_usage_is_exit_2_and_calls_nothing(params string[] args)
    {
        var unreachable = new OcctlRunner(new Uri($"http://127.0.0.1:{ControllerHost.FreePort()}"));

        var result = await unreachable.RunAsync(args);

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.StartsWith("occtl: ", result.Error);
        Assert.Contains("occtl --help", result.Error);
        Assert.DoesNotContain("cannot reach", result.Error);
    }

    [Fact]
    public async Task A_token_is_never_sent_in_plain_text_off_the_machine()
    {
        var result = await _occtl.RunAsync("connections", "--gateway", "http://controller.bank.example:9090");

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("only over https", result.Error);
    }

    [Fact]
    public async Task Help_is_exit_0_and_lists_the_exit_codes()
    {
        var result = await _occtl.RunAsync("--help");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("5 gateway unreachable", result.Output);
        Assert.Contains("server-health", result.Output);
    }

    public void Dispose() => _occtl.Dispose();
}
