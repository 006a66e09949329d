using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Errors;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.Grains.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace OrleansControl.Grains.Tests.Cluster;

/// <summary>
/// Two silos on Redis clustering and storage whose Redis restarts empty (what a Redis without persistence does): the
/// grains still in memory must not write over the loss, every refusal is typed (UNAVAILABLE at the gateway, never
/// INTERNAL), and the listing never shows a row its grain no longer serves. Its own cluster and Redis (it wipes it).
/// </summary>
public sealed class RedisLossTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly MultiSiloFixture _fixture = new();

    private IGrainFactory Grains => _fixture.Client;

    private IConnectionIndexGrain Index => Grains.GetGrain<IConnectionIndexGrain>(IConnectionIndexGrain.DefaultKey);

    private (RedisKey Key, byte[] Dump)? _membership;

    public Task InitializeAsync() => _fixture.InitializeAsync();

    public async Task DisposeAsync()
    {
        // Stopping a silo whose membership table is gone retries for minutes (in production the silo's exit deadline
        // ends that, docs/redis-registry.md): the table is put back first so the test cluster stops as usual.
        if (_membership is { } saved)
        {
            await using var redis = await ConnectionMultiplexer.ConnectAsync(_fixture.Redis.ConnectionString);
            await redis.GetDatabase().KeyRestoreAsync(saved.Key, saved.Dump, flags: CommandFlags.None);
        }
        await _fixture.DisposeAsync();
    }

    [Fact]
    public async Task After_redis_restarts_empty_the_index_lists_only_what_the_grains_serve_and_refusals_are_typed()
    {
        var pool = await Scenario.TwoZonePoolAsync(Grains, out var poolId);
        var connection = await Scenario.ActiveAsync(Grains, poolId, preferred: "s-a1");
        var id = connection.GetPrimaryKeyString();
        await connection.ReportHealth(new HealthReport(ReportedHealth.Degraded, "drill"));
        await connection.ReportHealth(new HealthReport(ReportedHealth.Healthy, "drill over"));
        var before = await connection.GetState();
        Assert.Equal(4, before.Version);
        Assert.Equal(before.Version, (await RowAsync(id))?.Version);

        await SaveMembershipAsync();
        await _fixture.Redis.RestartEmptyAsync();
        Assert.Equal("", (await _fixture.Redis.CliAsync("--scan", "--pattern", "*")).Trim());
        // The silos' storage connection is back once an unregistered connection's activation can read (and finds nothing).
        await TestSettings.EventuallyAsync(async () =>
        {
            try { await Grains.GetGrain<IConnectionGrain>(Scenario.NewId("probe")).GetState(); return false; }
            catch (ConnectionNotFoundException) { return true; }
            catch (Exception e) when (e is StorageUnavailableException or TimeoutException) { return false; }
        }, reachable => reachable, TimeSpan.FromSeconds(20));

        // The activation still holds v4 in memory; its next write meets a store without its record and is refused
        // (typed, retryable), and the activation is dropped, so it never writes or serves its memory over the loss.
        // That write is this call's, or the heartbeat timer's if it came first: then the call finds nothing stored.
        var refused = await Assert.ThrowsAnyAsync<ControlPlaneException>(
            () => connection.ReportHealth(new HealthReport(ReportedHealth.Degraded, "after the loss")));
        output.WriteLine($"first call after the loss: {refused.GetType().Name}: {refused.Message}");
        if (refused is StorageUnavailableException)
            Assert.Contains("lost or replaced", refused.Message, StringComparison.Ordinal);
        else
            Assert.IsType<ConnectionNotFoundException>(refused);

        // Reactivated, it finds nothing stored: not found, and its old v4 row leaves the listing.
        await TestSettings.EventuallyAsync(async () =>
        {
            try { await connection.GetState(); return false; }
            catch (ConnectionNotFoundException) { return true; }
            catch (StorageUnavailableException) { return false; } // the old activation may still be leaving
        }, gone => gone, TimeSpan.FromSeconds(10));
        await TestSettings.EventuallyAsync(() => RowAsync(id), row => row is null, TimeSpan.FromSeconds(5));

        // Registering again works on the one cluster; whatever is refused on the way is typed (a pool grain whose write
        // meets the empty store is dropped like the connection; reloaded empty, its servers are declared again, as an
        // operator's configuration does after a loss).
        var errors = new List<Exception>();
        ConnectionSnapshot? again = null;
        for (var attempt = 0; attempt < 10 && again is null; attempt++)
        {
            try
            {
                again = await connection.Register(new ConnectionRegistration(before.ClientId, poolId, "s-a1", SidecarId: before.SidecarId));
            }
            catch (Exception e)
            {
                errors.Add(e);
                if (e is PoolCapacityExceededException)
                    await Scenario.PoolAsync(Grains, poolId, ("s-a1", "a", 10), ("s-a2", "a", 10), ("s-b1", "b", 10));
            }
        }
        output.WriteLine($"re-registration refused {errors.Count} times: {string.Join(" | ", errors.Select(e => $"{e.GetType().Name}: {e.Message}"))}");
        Assert.NotNull(again);
        // Every refusal is typed; a call the test client gave up on (its 3 s timeout while Redis reconnects) is not a
        // refusal and says nothing either way.
        Assert.All(errors.Where(e => e is not TimeoutException), e => Assert.IsAssignableFrom<ControlPlaneException>(e));
        Assert.Equal((ConnectionStatus.Requested, 1L), (again.Status, again.Version));
        Assert.True(again.RegisteredAt > before.RegisteredAt);

        // The listing shows the new registration's v1, not anything from before the loss.
        var row = await TestSettings.EventuallyAsync(() => RowAsync(id), r => r is not null, TimeSpan.FromSeconds(5));
        Assert.Equal((ConnectionStatus.Requested, 1L, again.RegisteredAt), (row!.Status, row.Version, row.RegisteredAt));
        Assert.Equal((await connection.GetState()).Version, row.Version);
        _ = pool;
    }

    private async Task SaveMembershipAsync()
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(_fixture.Redis.ConnectionString);
        var key = (RedisKey)(await _fixture.Redis.CliAsync("--scan", "--pattern", "*/members/*")).Trim();
        _membership = (key, (await redis.GetDatabase().KeyDumpAsync(key))!);
    }

    private async Task<ConnectionSummary?> RowAsync(string connectionId)
    {
        var page = await Index.List(new ConnectionQuery(PageSize: 1000));
        return page.Items.SingleOrDefault(r => r.ConnectionId == connectionId);
    }
}
