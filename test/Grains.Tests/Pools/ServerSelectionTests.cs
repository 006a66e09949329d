using OrleansControl.GrainInterfaces.Models;
using OrleansControl.Grains.Pools;

namespace OrleansControl.Grains.Tests.Pools;

public sealed class ServerSelectionTests
{
    private static Dictionary<string, ServerDefinition> Servers(params ServerDefinition[] servers) =>
        servers.ToDictionary(s => s.ServerId);

    private static ServerDefinition S(string id, string zone, int capacity = 10, ServerHealth health = ServerHealth.Healthy) =>
        new(id, id + ":1", zone, capacity, health);

    [Fact]
    public void Preferred_server_is_used_when_healthy_with_a_free_slot()
    {
        var servers = Servers(S("a1", "a"), S("b1", "b"));
        Assert.Equal("b1", ServerSelection.PickForAssignment(servers, new Dictionary<string, int> { ["b1"] = 9 }, "b1")!.ServerId);
    }

    [Fact]
    public void Preferred_server_that_is_full_or_unhealthy_is_skipped()
    {
        var servers = Servers(S("a1", "a"), S("b1", "b", capacity: 2), S("c1", "c", health: ServerHealth.Unhealthy));
        Assert.Equal("a1", ServerSelection.PickForAssignment(servers, new Dictionary<string, int> { ["b1"] = 2 }, "b1")!.ServerId);
        Assert.NotEqual("c1", ServerSelection.PickForAssignment(servers, new Dictionary<string, int>(), "c1")!.ServerId);
    }

    [Fact]
    public void Without_preference_the_least_utilised_zone_and_then_server_wins()
    {
        var servers = Servers(S("a1", "a"), S("a2", "a"), S("b1", "b"));
        var load = new Dictionary<string, int> { ["a1"] = 1, ["b1"] = 2 };
        // zone a: 1/20, zone b: 2/10 → zone a; in it a2 (0) beats a1 (1)
        Assert.Equal("a2", ServerSelection.PickForAssignment(servers, load, null)!.ServerId);
    }

    [Fact]
    public void Degraded_servers_get_no_new_connections_and_a_full_pool_gives_none()
    {
        var servers = Servers(S("a1", "a", capacity: 1), S("b1", "b", health: ServerHealth.Degraded));
        Assert.Null(ServerSelection.PickForAssignment(servers, new Dictionary<string, int> { ["a1"] = 1 }, null));
    }

    [Fact]
    public void Failover_target_is_in_another_zone_when_one_exists()
    {
        var servers = Servers(S("a1", "a"), S("a2", "a"), S("b1", "b"));
        var load = new Dictionary<string, int> { ["a1"] = 1, ["b1"] = 8 };
        Assert.Equal("b1", ServerSelection.PickFailoverTarget(servers, load, "a1", null)!.ServerId);
    }

    [Fact]
    public void Failover_target_falls_back_to_the_same_zone_and_never_the_current_server()
    {
        var servers = Servers(S("a1", "a"), S("a2", "a"), S("b1", "b", health: ServerHealth.Unhealthy));
        Assert.Equal("a2", ServerSelection.PickFailoverTarget(servers, new Dictionary<string, int>(), "a1", null)!.ServerId);
        Assert.Null(ServerSelection.PickFailoverTarget(Servers(S("a1", "a")), new Dictionary<string, int>(), "a1", null));
    }

    [Fact]
    public void Failover_target_honours_a_usable_preferred_target()
    {
        var servers = Servers(S("a1", "a"), S("a2", "a"), S("b1", "b"));
        Assert.Equal("a2", ServerSelection.PickFailoverTarget(servers, new Dictionary<string, int>(), "a1", "a2")!.ServerId);
        Assert.Equal("b1", ServerSelection.PickFailoverTarget(servers, new Dictionary<string, int>(), "a1", "a1")!.ServerId);
    }
}
