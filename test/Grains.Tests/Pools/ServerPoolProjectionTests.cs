using System.Globalization;
using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.Grains.Projection;
using OrleansControl.Grains.Tests.Infrastructure;

namespace OrleansControl.Grains.Tests.Pools;

/// <summary>The pool's Redis projection (servers:{pool}:{server}, pools:{pool}) on a real redis-server: what the peer region reads from its replica.</summary>
[Collection(SingleSiloCollection.Name)]
public sealed class ServerPoolProjectionTests(SingleSiloFixture fixture)
{
    private IGrainFactory Grains => fixture.Client;

    [Fact]
    public async Task Each_server_is_projected_with_its_derived_load_and_health_on_every_change_and_deleted_when_removed()
    {
        var poolId = Scenario.NewId("pool");
        var pool = await Scenario.PoolAsync(Grains, poolId, ("s-1", "a", 2), ("s-2", "b", 2), ("s-3", "b", 2));
        await pool.Assign(new AssignmentRequest("c-1", "bank", "s-1"));

        var s1 = await ServerAsync(poolId, "s-1");
        Assert.Equal(("s-1", poolId, Scenario.Address("s-1"), "a", "2", "1"), (s1["server_id"], s1["pool_id"], s1["address"], s1["zone"], s1["capacity"], s1["load"]));
        Assert.Equal(("healthy", "false", "", "local"), (s1["health"], s1["suspect"], s1["health_reason"], s1["region"]));
        Assert.NotEmpty(s1["incarnation"]);
        var written = DateTimeOffset.Parse(s1["updated_at"], CultureInfo.InvariantCulture);
        Assert.InRange(DateTimeOffset.UtcNow - written, TimeSpan.Zero, TimeSpan.FromMinutes(1));
        Assert.Equal(["s-1", "s-2", "s-3"], await MembersAsync(poolId));

        // Declared health, an ejection on evidence and a released slot each reach the projection before the call returns.
        await pool.SetServerHealth("s-2", ServerHealth.Unhealthy);
        var s2 = await ServerAsync(poolId, "s-2");
        Assert.Equal(("unhealthy", "declared unhealthy"), (s2["health"], s2["health_reason"]));
        await pool.ReportServerFailure(new ServerFailureReport("s-1", "c-1", "connection refused"));
        s1 = await ServerAsync(poolId, "s-1");
        Assert.Equal("true", s1["suspect"]);
        Assert.Contains("connection refused", s1["health_reason"], StringComparison.Ordinal);
        Assert.NotEmpty(s1["ejected_until"]);
        await pool.Release("c-1");
        Assert.Equal("0", (await ServerAsync(poolId, "s-1"))["load"]);

        await pool.RemoveServer("s-2");
        Assert.Empty(await ServerAsync(poolId, "s-2"));
        Assert.Equal(["s-1", "s-3"], await MembersAsync(poolId));
    }

    [Fact]
    public async Task Replacing_a_pools_projection_deletes_servers_it_no_longer_has()
    {
        var poolId = Scenario.NewId("pool");
        await fixture.Redis.CliAsync("SADD", RedisServerPoolProjection.PoolKey(poolId), "ghost");
        await fixture.Redis.CliAsync("HSET", RedisServerPoolProjection.ServerKey(poolId, "ghost"), "server_id", "ghost");
        await using var projection = new RedisServerPoolProjection(() => StackExchange.Redis.ConfigurationOptions.Parse(fixture.Redis.ConnectionString), "scheme");

        await projection.ReplaceAsync(poolId, [new ServerProjectionRecord(poolId, "s-1", "s-1:1", "a", 1, 0, ServerHealth.Healthy, false, null, "", "i-1", DateTimeOffset.UtcNow)]);

        Assert.Equal(["s-1"], await MembersAsync(poolId));
        Assert.Empty(await ServerAsync(poolId, "ghost"));
        Assert.Equal("scheme", (await ServerAsync(poolId, "s-1"))["region"]);
    }

    private async Task<Dictionary<string, string>> ServerAsync(string poolId, string serverId)
    {
        var lines = (await fixture.Redis.CliAsync("HGETALL", RedisServerPoolProjection.ServerKey(poolId, serverId))).Split('\n', StringSplitOptions.TrimEntries);
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < lines.Length; i += 2)
            if (lines[i].Length > 0) fields[lines[i]] = lines[i + 1];
        return fields;
    }

    private async Task<string[]> MembersAsync(string poolId) =>
        [.. (await fixture.Redis.CliAsync("SMEMBERS", RedisServerPoolProjection.PoolKey(poolId)))
            .Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal)];
}
