using System.Text.Json;
using OrleansControl.Occtl.Tests.Infrastructure;

namespace OrleansControl.Occtl.Tests;

/// <summary>watch and events: WatchConnections, from the moment occtl says it is watching.</summary>
[Collection(GatewayCollection.Name)]
public sealed class StreamTests(GatewayFixture fixture) : IDisposable
{
    private readonly Registry _registry = fixture.Registry;
    private readonly OcctlRunner _occtl = new(fixture.Host.GrpcAddress);

    private async Task<OrleansControl.Contract.V1.Connection> ConnectionAsync(string prefix)
    {
        var pool = Registry.Unique(prefix);
        await _registry.AddServerAsync(pool, "srv-a", "a", 5001);
        await _registry.AddServerAsync(pool, "srv-b", "b", 5002);
        var c = await _registry.RegisterAsync(pool, pool + "-app", preferred: "srv-a", sidecarId: "sidecar-6");
        await _registry.WaitForListingAsync(pool, 1);
        return c;
    }

    [Fact]
    public async Task Watch_prints_the_table_then_the_change()
    {
        var c = await ConnectionAsync("watch");
        var watch = _occtl.Start("watch", "--client", c.ClientId, "--count", "1");
        await watch.WaitForAsync("watching connection events");

        await _registry.RequestFailoverAsync(c.ConnectionId);
        var result = await watch.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("CONNECTION", lines[0]);
        Assert.Contains(lines, l => l.StartsWith(c.ConnectionId) && l.Contains("REQUESTED"));
        Assert.True(lines.Any(l => l.Contains($" {c.ConnectionId} REQUESTED->MIGRATING v2 ") && l.Contains("target=srv-b")), result.ToString());
    }

    [Fact]
    public async Task Events_prints_one_json_object_per_event_and_ends_on_ctrl_c_with_exit_0()
    {
        var c = await ConnectionAsync("events");
        var events = _occtl.Start("events", "--connection", c.ConnectionId, "-o", "json");
        await events.WaitForAsync("watching connection events");

        await _registry.RequestFailoverAsync(c.ConnectionId);
        await events.WaitForAsync("CONNECTION_STATUS_MIGRATING");
        var result = await events.StopAsync();

        Assert.True(result.ExitCode == 0, result.ToString());
        // The registration's own event may still arrive after the subscription: the failover is the MIGRATING one.
        var e = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement)
            .Single(x => x.GetProperty("connection").GetProperty("status").GetString() == "CONNECTION_STATUS_MIGRATING");
        Assert.Equal(c.ConnectionId, e.GetProperty("connection").GetProperty("connectionId").GetString());
        Assert.Equal("CONNECTION_STATUS_REQUESTED", e.GetProperty("previousStatus").GetString());
        Assert.Equal("CONNECTION_STATUS_MIGRATING", e.GetProperty("connection").GetProperty("status").GetString());
        Assert.Contains("failover to srv-b", e.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task Connection_follow_prints_its_changes_after_the_detail()
    {
        var c = await ConnectionAsync("follow");
        var follow = _occtl.Start("connection", c.ConnectionId, "--follow", "--count", "1");
        // occtl subscribes before it prints the detail: from then on no change is missed.
        await follow.WaitForAsync("History");

        await _registry.RequestFailoverAsync(c.ConnectionId);
        var result = await follow.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("REQUESTED (registered; not signed on yet)", result.Output);
        Assert.True(result.Output.Contains($"{c.ConnectionId} REQUESTED->MIGRATING"), result.ToString());
    }

    public void Dispose() => _occtl.Dispose();
}
