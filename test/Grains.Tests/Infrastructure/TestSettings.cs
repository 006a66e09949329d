using OrleansControl.Grains.Connections;
using OrleansControl.Silo.Extensions;

namespace OrleansControl.Grains.Tests.Infrastructure;

public static class TestSettings
{
    /// <summary>1 s heartbeats, failed after 3 missed: the fastest setting the grains support.</summary>
    public static ConnectionHealthOptions Health() => new()
    {
        HeartbeatInterval = TimeSpan.FromSeconds(1),
        MissedHeartbeatsBeforeFailed = 3,
        HeartbeatPersistInterval = TimeSpan.FromSeconds(1),
        BackstopPeriod = TimeSpan.FromSeconds(2),
        MoveDeadline = TimeSpan.FromSeconds(1),
        NoTargetRetryInitial = TimeSpan.FromMilliseconds(500),
        NoTargetRetryMax = TimeSpan.FromSeconds(4),
    };

    /// <summary>For tests about behaviour, not timing: nothing times out within a test.</summary>
    public static ConnectionHealthOptions SlowHealth() => new()
    {
        HeartbeatInterval = TimeSpan.FromSeconds(10),
        MissedHeartbeatsBeforeFailed = 3,
        HeartbeatPersistInterval = TimeSpan.FromSeconds(1),
        BackstopPeriod = TimeSpan.FromSeconds(10),
        MoveDeadline = TimeSpan.FromSeconds(30),
    };

    public static ControllerSiloOptions RedisSilo(RedisServer redis) => new()
    {
        Storage = StorageKind.Redis,
        Clustering = ClusteringKind.Redis,
        Redis = redis.ConnectionString,
    };

    /// <summary>Polls until the condition holds or the timeout passes; returns the last value.</summary>
    public static async Task<T> EventuallyAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            T value;
            try
            {
                value = await probe();
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
                continue;
            }
            if (done(value) || DateTime.UtcNow >= deadline)
                return value;
            await Task.Delay(200);
        }
    }
}
