using System.Text.Json;
using OrleansControl.Occtl.Tests.Infrastructure;

namespace OrleansControl.Occtl.Tests;

/// <summary>connections, connection, servers, pools against a real gateway: what an operator reads.</summary>
[Collection(GatewayCollection.Name)]
public sealed class ListingTests(GatewayFixture fixture) : IDisposable
{
    private readonly Registry _registry = fixture.Registry;
    private readonly OcctlRunner _occtl = new(fixture.Host.GrpcAddress);

    /// <summary>Pool with srv-a (zone a) and srv-b (zone b); 5 connections: 3 on srv-a, 2 on srv-b; two clients, two sidecars.</summary>
    private async Task<(string Pool, List<OrleansControl.Contract.V1.Connection> Connections)> FivePoolAsync()
    {
        var pool = Registry.Unique("list");
        await _registry.AddServerAsync(pool, "srv-a", "a", 5001);
        await _registry.AddServerAsync(pool, "srv-b", "b", 5002);
        var connections = new List<OrleansControl.Contract.V1.Connection>();
        for (var i = 0; i < 5; i++)
        {
            connections.Add(await _registry.RegisterAsync(pool, i % 2 == 0 ? "app-even" : "app-odd",
                preferred: i < 3 ? "srv-a" : "srv-b", sidecarId: i < 4 ? "sidecar-8" : "sidecar-9"));
        }
        await _registry.WaitForListingAsync(pool, 5);
        return (pool, connections);
    }

    private static List<JsonElement> Connections(OcctlResult result) =>
        [.. JsonDocument.Parse(result.Output).RootElement.GetProperty("connections").EnumerateArray()];

    [Fact]
    public async Task Connections_fetches_every_page_and_prints_json()
    {
        var (pool, registered) = await FivePoolAsync();

        var result = await _occtl.RunAsync("connections", "--pool", pool, "--page-size", "2", "-o", "json");

        Assert.True(result.ExitCode == 0, result.ToString());
        var listed = Connections(result);
        Assert.Equal(registered.Select(c => c.ConnectionId).Order(), listed.Select(c => c.GetProperty("connectionId").GetString()).Order());
        var first = listed.Single(c => c.GetProperty("connectionId").GetString() == registered[0].ConnectionId);
        Assert.Equal("srv-a", first.GetProperty("serverId").GetString());
        Assert.Equal("sidecar-8", first.GetProperty("sidecarId").GetString());
        Assert.Equal("local", first.GetProperty("region").GetString());
        Assert.Equal("CONNECTION_STATUS_REQUESTED", first.GetProperty("status").GetString());
        Assert.True(first.TryGetProperty("statusDetail", out _), "every field is present, also when empty");
    }

    [Theory]
    [InlineData("--server", "srv-a", 3)]
    [InlineData("--server", "srv-b", 2)]
    [InlineData("--sidecar", "sidecar-9", 1)]
    [InlineData("--client", "app-even", 3)]
    [InlineData("--status", "requested", 5)]
    [InlineData("--status", "ACTIVE", 0)]
    public async Task Connections_filters_by_server_sidecar_client_and_status(string option, string value, int expected)
    {
        var (pool, _) = await FivePoolAsync();

        var result = await _occtl.RunAsync("connections", "--pool", pool, option, value, "-o", "json");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(expected, Connections(result).Count);
    }

    [Fact]
    public async Task Connections_table_has_a_row_per_connection_and_yaml_the_same_fields()
    {
        var (pool, registered) = await FivePoolAsync();

        var table = await _occtl.RunAsync("connections", "--pool", pool, "--server", "srv-b");
        var yaml = await _occtl.RunAsync("conns", "--pool", pool, "--server", "srv-b", "-o", "yaml");

        Assert.True(table.ExitCode == 0, table.ToString());
        var lines = table.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.StartsWith("CONNECTION", lines[0]);
        Assert.Contains("SIDECAR", lines[0]);
        Assert.Equal(2, lines.Count(l => l.Contains(pool)));
        Assert.Contains(lines, l => l.StartsWith(registered[4].ConnectionId) && l.Contains("REQUESTED") && l.Contains("sidecar-9"));
        Assert.True(yaml.ExitCode == 0, yaml.ToString());
        Assert.Contains("connections:", yaml.Output);
        Assert.Contains($"connectionId: {registered[4].ConnectionId}", yaml.Output);
        Assert.Contains("serverId: srv-b", yaml.Output);
    }

    [Fact]
    public async Task Connection_shows_status_detail_sidecar_region_and_says_history_is_not_in_the_contract()
    {
        var pool = Registry.Unique("detail");
        await _registry.AddServerAsync(pool, "srv-a", "a", 5001);
        await _registry.AddServerAsync(pool, "srv-b", "b", 5002);
        var c = await _registry.RegisterAsync(pool, "app", preferred: "srv-a", sidecarId: "sidecar-7");
        // A move with no sidecar attached waits, and says so in status_detail.
        var moving = await _registry.RequestFailoverAsync(c.ConnectionId);
        Assert.NotEmpty(moving.StatusDetail);

        var table = await _occtl.RunAsync("connection", c.ConnectionId);
        var json = await _occtl.RunAsync("connection", c.ConnectionId, "-o", "json");

        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains(c.ConnectionId, table.Output);
        Assert.Contains("MIGRATING", table.Output);
        Assert.Contains("a move to srv-b is under way; ACTIVE once the sidecar signs on there", table.Output);
        Assert.Contains(moving.StatusDetail, table.Output);
        Assert.Contains("sidecar-7", table.Output);
        Assert.Contains("srv-a (127.0.0.1:5001)", table.Output);
        Assert.Contains("History", table.Output);
        Assert.Contains("the contract has no history call", table.Output);
        var root = JsonDocument.Parse(json.Output).RootElement;
        Assert.Equal("CONNECTION_STATUS_MIGRATING", root.GetProperty("status").GetString());
        Assert.Equal("srv-b", root.GetProperty("failoverTarget").GetString());
        Assert.Equal(moving.StatusDetail, root.GetProperty("statusDetail").GetString());
        Assert.Equal("local", root.GetProperty("region").GetString());
    }

    [Fact]
    public async Task Connection_that_does_not_exist_is_exit_3_with_the_gateways_words()
    {
        var result = await _occtl.RunAsync("connection", "no-such-connection");

        Assert.Equal(ExitCodes.NotFound, result.ExitCode);
        Assert.StartsWith("occtl: GetConnection: NOT_FOUND: ", result.Error);
        Assert.Contains("no-such-connection", result.Error);
        Assert.Empty(result.Output);
    }

    [Fact]
    public async Task Servers_show_load_capacity_state_and_the_suspect_fields()
    {
        var (pool, _) = await FivePoolAsync();
        await _registry.Pools.SetServerHealthAsync(new OrleansControl.Contract.V1.SetServerHealthRequest
        {
            ServerPool = pool,
            ServerId = "srv-b",
            Health = OrleansControl.Contract.V1.ServerHealth.Degraded,
        }, new Grpc.Core.Metadata { { "authorization", "Bearer " + ControllerHost.OperatorToken } });

        var table = await _occtl.RunAsync("servers", pool);
        var json = await _occtl.RunAsync("servers", pool, "-o", "json");

        Assert.True(table.ExitCode == 0, table.ToString());
        var lines = table.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.StartsWith("SERVER", lines[0]);
        Assert.Contains("EJECTED-UNTIL", lines[0]);
        Assert.Matches(@"^srv-a\s+127\.0\.0\.1:5001\s+a\s+3\s+100\s+healthy", lines.Single(l => l.StartsWith("srv-a")));
        Assert.Matches(@"^srv-b\s+127\.0\.0\.1:5002\s+b\s+2\s+100\s+degraded/unhealthy", lines.Single(l => l.StartsWith("srv-b")));
        var servers = JsonDocument.Parse(json.Output).RootElement.GetProperty("servers").EnumerateArray().ToList();
        Assert.Equal(2, servers.Count);
        foreach (var field in new[] { "suspect", "ejectedUntil", "healthDetail", "healthy", "load" }) Assert.True(servers[0].TryGetProperty(field, out _), field);
    }

    [Fact]
    public async Task Pools_are_derived_from_connections_and_the_ones_named()
    {
        var (pool, _) = await FivePoolAsync();
        var empty = Registry.Unique("empty");
        await _registry.AddServerAsync(empty, "srv-z", "z", 5009);

        var result = await _occtl.RunAsync("pools", "--pool", empty, "-o", "json");
        var table = await _occtl.RunAsync("pools", "--pool", empty);

        Assert.True(result.ExitCode == 0, result.ToString());
        var pools = JsonDocument.Parse(result.Output).RootElement.GetProperty("pools").EnumerateArray().ToList();
        var mine = pools.Single(p => p.GetProperty("pool").GetString() == pool);
        Assert.Equal(5, mine.GetProperty("connections").GetInt32());
        Assert.Equal(2, mine.GetProperty("servers").GetArrayLength());
        var named = pools.Single(p => p.GetProperty("pool").GetString() == empty);
        Assert.Equal(0, named.GetProperty("connections").GetInt32());
        Assert.Equal("srv-z", named.GetProperty("servers")[0].GetProperty("serverId").GetString());
        Assert.Matches($@"(?m)^{pool}\s+2\s+2\s+0\s+5\s+200\s+5\s+0\s+0\s+0", table.Output);
    }

    public void Dispose() => _occtl.Dispose();
}
