using System.Text.Json;
using OrleansControl.Occtl.Tests.Infrastructure;

namespace OrleansControl.Occtl.Tests;

/// <summary>occtl as a script runs it: <c>dotnet occtl.dll ...</c>, its exit code and its standard output.</summary>
[Collection(GatewayCollection.Name)]
public sealed class ProcessTests(GatewayFixture fixture) : IDisposable
{
    private readonly Registry _registry = fixture.Registry;
    private readonly OcctlRunner _occtl = new(fixture.Host.GrpcAddress);

    [Fact]
    public async Task The_process_lists_as_json_and_names_a_missing_connection_with_exit_3()
    {
        var pool = Registry.Unique("proc");
        await _registry.AddServerAsync(pool, "srv-a", "a", 5001);
        var c = await _registry.RegisterAsync(pool, "app", sidecarId: "sidecar-2");
        await _registry.WaitForListingAsync(pool, 1);

        var listed = await _occtl.RunProcessAsync("connections", "--pool", pool, "-o", "json");
        var missing = await _occtl.RunProcessAsync("connection", "gone-" + c.ConnectionId);
        var table = await _occtl.RunProcessAsync("connections", "--pool", pool);

        Assert.True(listed.ExitCode == 0, listed.ToString());
        var connections = JsonDocument.Parse(listed.Output).RootElement.GetProperty("connections");
        Assert.Equal(c.ConnectionId, connections[0].GetProperty("connectionId").GetString());
        Assert.Equal(ExitCodes.NotFound, missing.ExitCode);
        Assert.StartsWith("occtl: GetConnection: NOT_FOUND: ", missing.Error);
        // Redirected output is never wrapped: one row per connection, whole.
        Assert.Contains(table.Output.Split('\n'), l => l.StartsWith(c.ConnectionId) && l.Contains("sidecar-2") && l == l.TrimEnd());
    }

    [Fact]
    public async Task The_process_reports_an_unreachable_gateway_with_exit_5()
    {
        var result = await _occtl.RunProcessAsync("pools", "--gateway", $"http://127.0.0.1:{ControllerHost.FreePort()}");

        Assert.Equal(ExitCodes.Unreachable, result.ExitCode);
        Assert.StartsWith("occtl: ListConnections: cannot reach the gateway", result.Error);
        Assert.Empty(result.Output);
    }

    public void Dispose() => _occtl.Dispose();
}
