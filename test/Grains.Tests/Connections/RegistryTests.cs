using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.Grains.Tests.Infrastructure;

namespace OrleansControl.Grains.Tests.Connections;

/// <summary>The Redis projection (read by redis-cli, as a non-.NET tool would) and the connection index.</summary>
[Collection(SingleSiloCollection.Name)]
public sealed class RegistryTests(SingleSiloFixture fixture)
{
    private IGrainFactory Grains => fixture.Client;

    [Fact]
    public async Task Projection_is_readable_with_redis_cli_hgetall()
    {
        await Scenario.TwoZonePoolAsync(Grains, out var poolId);
        var connection = await Scenario.ActiveAsync(Grains, poolId, preferred: "s-a1");
        var id = connection.GetPrimaryKeyString();
        var state = await connection.GetState();

        var fields = ParseHgetall(await fixture.Redis.CliAsync("HGETALL", $"connections:{id}"));

        Assert.Equal(state.ClientId, fields["client_id"]);
        Assert.Equal("s-a1", fields["server_id"]);
        Assert.Equal("active", fields["status"]);
        Assert.Equal("100", fields["health_score"]);
        Assert.Equal("s-b1", fields["failover_target"]);
        Assert.True(DateTimeOffset.TryParse(fields["last_heartbeat"], out _), fields["last_heartbeat"]);
        Assert.Equal("2", fields["version"]);
        Assert.True(DateTimeOffset.TryParse(fields["projected_at"], out var at) && at > DateTimeOffset.UtcNow.AddMinutes(-1), fields["projected_at"]);
    }

    [Fact]
    public async Task Projection_follows_a_failover()
    {
        await Scenario.TwoZonePoolAsync(Grains, out var poolId);
        var connection = await Scenario.ActiveAsync(Grains, poolId, preferred: "s-a1");
        await connection.RequestFailover(new FailoverRequest("drill", "p-1"));

        // Migrating: still on s-a1 (the link has not moved yet), target s-b1, and why it waits.
        var fields = ParseHgetall(await fixture.Redis.CliAsync("HGETALL", $"connections:{connection.GetPrimaryKeyString()}"));
        Assert.Equal(("s-a1", "migrating", "s-b1", "3"), (fields["server_id"], fields["status"], fields["failover_target"], fields["version"]));
        Assert.StartsWith("waiting for sidecar sidecar-", fields["status_detail"], StringComparison.Ordinal);
        Assert.StartsWith("sidecar-", fields["sidecar_id"], StringComparison.Ordinal);

        await Scenario.SignOnAtTargetAsync(Grains, connection);
        fields = ParseHgetall(await fixture.Redis.CliAsync("HGETALL", $"connections:{connection.GetPrimaryKeyString()}"));
        Assert.Equal(("s-b1", "active", "4", "s-b1.scheme.test:8583"), (fields["server_id"], fields["status"], fields["version"], fields["server_address"]));
    }

    [Fact]
    public async Task Grain_state_is_stored_in_redis()
    {
        await Scenario.TwoZonePoolAsync(Grains, out var poolId);
        var connection = await Scenario.RegisterAsync(Grains, poolId);
        var keys = await fixture.Redis.CliAsync("--scan", "--pattern", $"*{connection.GetPrimaryKeyString()}*");
        Assert.Contains("/state/", keys, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Index_lists_connections_with_filters_and_paging()
    {
        await Scenario.TwoZonePoolAsync(Grains, out var poolId);
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
            ids.Add((await Scenario.ActiveAsync(Grains, poolId, preferred: "s-a1")).GetPrimaryKeyString());
        var failed = await Scenario.RegisterAsync(Grains, poolId, preferred: "s-a1");
        await failed.TransitionTo(ConnectionStatus.Closed, 1, "test");
        var index = Grains.GetGrain<IConnectionIndexGrain>(IConnectionIndexGrain.DefaultKey);

        var pages = new List<ConnectionSummary>();
        var query = new ConnectionQuery(Status: ConnectionStatus.Active, ServerPool: poolId, PageSize: 2);
        var page = await TestSettings.EventuallyAsync(() => index.List(query), p => p.TotalMatched == 5, TimeSpan.FromSeconds(5));
        pages.AddRange(page.Items);
        while (page.NextPageToken is not null)
        {
            page = await index.List(query with { PageToken = page.NextPageToken });
            pages.AddRange(page.Items);
        }

        Assert.Equal(ids.Order(StringComparer.Ordinal), pages.Select(p => p.ConnectionId));
        Assert.All(pages, p => Assert.Equal(("s-a1", ConnectionStatus.Active), (p.ServerId, p.Status)));
        var closed = await index.List(new ConnectionQuery(Status: ConnectionStatus.Closed, ServerPool: poolId));
        Assert.Equal(failed.GetPrimaryKeyString(), Assert.Single(closed.Items).ConnectionId);
    }

    private static Dictionary<string, string> ParseHgetall(string output)
    {
        var lines = output.Split('\n', StringSplitOptions.TrimEntries);
        var fields = new Dictionary<string, string>();
        for (var i = 0; i + 1 < lines.Length; i += 2)
            if (lines[i].Length > 0)
                fields[lines[i]] = lines[i + 1];
        return fields;
    }
}
