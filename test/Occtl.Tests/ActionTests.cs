using System.Text.Json;
using OrleansControl.Contract.V1;
using OrleansControl.Occtl.Tests.Infrastructure;

namespace OrleansControl.Occtl.Tests;

/// <summary>failover, server-health and drain: what an operator changes, and what occtl refuses to pretend.</summary>
[Collection(GatewayCollection.Name)]
public sealed class ActionTests(GatewayFixture fixture) : IDisposable
{
    private readonly Registry _registry = fixture.Registry;
    private readonly OcctlRunner _occtl = new(fixture.Host.GrpcAddress);

    private async Task<string> TwoServerPoolAsync(string prefix)
    {
        var pool = Registry.Unique(prefix);
        await _registry.AddServerAsync(pool, "srv-a", "a", 5001);
        await _registry.AddServerAsync(pool, "srv-b", "b", 5002);
        return pool;
    }

    /// <summary>Connections on srv-a owned by a sidecar that signs on wherever it is told: ACTIVE before the test acts.</summary>
    private async Task<List<Connection>> ActiveOnSrvAAsync(string pool, int count, int sidecar)
    {
        var connections = new List<Connection>();
        for (var i = 0; i < count; i++)
        {
            var c = await _registry.RegisterAsync(pool, $"app-{i}", preferred: "srv-a", sidecarId: FakeSidecar.Id(sidecar));
            connections.Add(await _registry.WaitForAsync(c.ConnectionId, x => x.Status == ConnectionStatus.Active));
        }
        await Registry.Eventually(() => _registry.ListAsync(pool), l => l.Count == count && l.All(c => c.Status == ConnectionStatus.Active));
        return connections;
    }

    [Fact]
    public async Task Failover_moves_the_connection_to_the_pools_choice()
    {
        var pool = await TwoServerPoolAsync("fo");
        var c = await _registry.RegisterAsync(pool, "app", preferred: "srv-a", sidecarId: "sidecar-6");

        var result = await _occtl.RunAsync("failover", c.ConnectionId, "--reason", "maintenance on srv-a");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.StartsWith($"{c.ConnectionId}: MIGRATING from srv-a to srv-b", result.Output);
        var after = await _registry.GetAsync(c.ConnectionId);
        Assert.Equal(ConnectionStatus.Migrating, after.Status);
        Assert.Equal("srv-b", after.FailoverTarget);
    }

    [Fact]
    public async Task Failover_with_a_target_is_refused_with_exit_4_and_nothing_changes()
    {
        var pool = await TwoServerPoolAsync("fo-to");
        var c = await _registry.RegisterAsync(pool, "app", preferred: "srv-a", sidecarId: "sidecar-6");

        var result = await _occtl.RunAsync("failover", c.ConnectionId, "--to", "srv-b");

        Assert.Equal(ExitCodes.Refused, result.ExitCode);
        Assert.Contains("--to srv-b cannot be honoured", result.Error);
        Assert.Contains("RequestFailover has no target field", result.Error);
        Assert.Contains("Nothing was requested", result.Error);
        var after = await _registry.GetAsync(c.ConnectionId);
        Assert.Equal(c.Version, after.Version);
        Assert.Equal(ConnectionStatus.Requested, after.Status);
    }

    [Fact]
    public async Task Failover_with_nowhere_to_go_is_exit_4_with_the_gateways_reason()
    {
        var pool = Registry.Unique("fo-one");
        await _registry.AddServerAsync(pool, "srv-only", "a", 5001);
        var c = await _registry.RegisterAsync(pool, "app", sidecarId: "sidecar-6");

        var result = await _occtl.RunAsync("failover", c.ConnectionId);

        Assert.Equal(ExitCodes.Refused, result.ExitCode);
        Assert.StartsWith("occtl: RequestFailover: FAILED_PRECONDITION: no failover target", result.Error);
        Assert.DoesNotContain("   at ", result.Error);
    }

    [Fact]
    public async Task Server_health_declares_a_verdict_and_an_unknown_server_is_exit_3()
    {
        var pool = await TwoServerPoolAsync("health");

        var degraded = await _occtl.RunAsync("server-health", pool, "srv-b", "degraded", "--reason", "patching", "-o", "json");
        var unknown = await _occtl.RunAsync("server-health", pool, "srv-nope", "unhealthy");
        var bad = await _occtl.RunAsync("server-health", pool, "srv-b", "sick");

        Assert.True(degraded.ExitCode == 0, degraded.ToString());
        var server = JsonDocument.Parse(degraded.Output).RootElement.GetProperty("server");
        Assert.Equal("srv-b", server.GetProperty("serverId").GetString());
        Assert.False(server.GetProperty("healthy").GetBoolean());
        var listed = await _registry.Pools.ListServersAsync(new ListServersRequest { ServerPool = pool },
            new Grpc.Core.Metadata { { "authorization", "Bearer " + ControllerHost.OperatorToken } });
        Assert.False(listed.Servers.Single(s => s.ServerId == "srv-b").Healthy);
        Assert.Equal(ExitCodes.NotFound, unknown.ExitCode);
        Assert.StartsWith("occtl: SetServerHealth: NOT_FOUND: ", unknown.Error);
        Assert.Equal(ExitCodes.Usage, bad.ExitCode);
    }

    [Fact]
    public async Task Drain_marks_the_server_unhealthy_and_shows_progress_until_it_carries_nothing()
    {
        var pool = await TwoServerPoolAsync("drain");
        await using var sidecar = await FakeSidecar.AttachAsync(fixture.Host.Channel(), 5);
        var connections = await ActiveOnSrvAAsync(pool, 3, sidecar: 5);

        var result = await _occtl.RunAsync("drain", "srv-a", "--pool", pool, "--timeout", "40s", "--interval", "200ms");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.StartsWith("srv-a marked UNHEALTHY", result.Output);
        Assert.Matches(@"\[\d+m?s\] srv-a: [1-3] connection\(s\) left", result.Output);
        Assert.Contains("srv-a carries no connection (drained in", result.Output);
        foreach (var c in connections)
        {
            var after = await _registry.GetAsync(c.ConnectionId);
            Assert.Equal(("srv-b", ConnectionStatus.Active), (after.ServerId, after.Status));
        }
    }

    [Fact]
    public async Task Drain_by_degraded_requests_each_move_itself()
    {
        var pool = await TwoServerPoolAsync("drain-deg");
        await using var sidecar = await FakeSidecar.AttachAsync(fixture.Host.Channel(), 4);
        var connections = await ActiveOnSrvAAsync(pool, 2, sidecar: 4);

        var result = await _occtl.RunAsync("drain", "srv-a", "--pool", pool, "--mark", "degraded", "--timeout", "40s", "--interval", "200ms", "-o", "json");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("srv-a marked DEGRADED", result.Error);
        var summary = JsonDocument.Parse(result.Output).RootElement;
        Assert.True(summary.GetProperty("drained").GetBoolean());
        Assert.Equal(0, summary.GetProperty("remaining").GetArrayLength());
        foreach (var c in connections) Assert.Equal("srv-b", (await _registry.GetAsync(c.ConnectionId)).ServerId);
    }

    [Fact]
    public async Task Drain_that_cannot_finish_is_exit_7_and_lists_what_is_left()
    {
        var pool = Registry.Unique("drain-stuck");
        await _registry.AddServerAsync(pool, "srv-only", "a", 5001);
        var c = await _registry.RegisterAsync(pool, "app", sidecarId: "sidecar-6");
        await _registry.WaitForListingAsync(pool, 1);

        var result = await _occtl.RunAsync("drain", "srv-only", "--pool", pool, "--timeout", "1500ms", "--interval", "200ms");

        Assert.Equal(ExitCodes.TimedOut, result.ExitCode);
        Assert.Contains(c.ConnectionId, result.Output);
        Assert.Contains("occtl: drain: srv-only still carries 1 connection(s) after 1.5s", result.Error);
    }

    public void Dispose() => _occtl.Dispose();
}
