using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;

namespace OrleansControl.Grains.Tests.Infrastructure;

/// <summary>Small builders so each test reads as the behaviour it checks. Every test uses fresh, unique ids.</summary>
public static class Scenario
{
    public static string NewId(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];

    /// <summary>A pool with servers (id, zone, capacity); addresses are made up from the id.</summary>
    public static async Task<IServerPoolGrain> PoolAsync(IGrainFactory grains, string poolId, params (string Id, string Zone, int Capacity)[] servers)
    {
        var pool = grains.GetGrain<IServerPoolGrain>(poolId);
        foreach (var (id, zone, capacity) in servers)
            await pool.AddOrUpdateServer(new ServerDefinition(id, $"{id}.scheme.test:8583", zone, capacity));
        return pool;
    }

    /// <summary>A two-zone pool (s-a1, s-a2 in zone a; s-b1 in zone b) with a fresh id.</summary>
    public static Task<IServerPoolGrain> TwoZonePoolAsync(IGrainFactory grains, out string poolId, int capacity = 10)
    {
        poolId = NewId("pool");
        return PoolAsync(grains, poolId, ("s-a1", "a", capacity), ("s-a2", "a", capacity), ("s-b1", "b", capacity));
    }

    public static async Task<IConnectionGrain> RegisterAsync(IGrainFactory grains, string poolId, string? preferred = null, string? clientId = null)
    {
        var connection = grains.GetGrain<IConnectionGrain>(NewId("conn"));
        await connection.Register(new ConnectionRegistration(clientId ?? NewId("bank"), poolId, preferred));
        return connection;
    }

    public static Heartbeat GoodHeartbeat() => new(EchoRttMs: 20, ErrorCount: 0, TimeoutCount: 0, SentAt: DateTimeOffset.UtcNow);

    public static Heartbeat BadHeartbeat() => new(EchoRttMs: 900, ErrorCount: 3, TimeoutCount: 2, SentAt: DateTimeOffset.UtcNow);

    public static async Task<IConnectionGrain> ActiveAsync(IGrainFactory grains, string poolId, string? preferred = null)
    {
        var connection = await RegisterAsync(grains, poolId, preferred);
        await connection.RecordHeartbeat(GoodHeartbeat());
        return connection;
    }
}
