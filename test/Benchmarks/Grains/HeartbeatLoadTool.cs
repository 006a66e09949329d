using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.Grains.Connections;
using OrleansControl.Silo.Extensions;

namespace OrleansControl.Benchmarks.Grains;

/// <summary>
/// Drives heartbeats into ConnectionGrains on one silo with Redis grain storage, reminders and projection, calling
/// through the silo's own grain factory (the co-hosted gateway's path, minus gRPC). Reports heartbeats/s,
/// p50/p99 call latency and Redis commands/s from INFO commandstats.
/// Args: --connections 10000 --seconds 20 --warmup 5 --concurrency 256 [--redis host:port]
/// </summary>
public sealed class HeartbeatLoadTool : ILoadTool
{
    public string Name => "heartbeats";

    public string Description => "heartbeats into ConnectionGrains on one silo with Redis storage (heartbeats/s, p50/p99, Redis writes/s)";

    public async Task<int> RunAsync(string[] args)
    {
        var connections = Arg(args, "--connections", 10_000);
        var seconds = Arg(args, "--seconds", 20);
        var warmup = Arg(args, "--warmup", 5);
        var concurrency = Arg(args, "--concurrency", 256);
        var redisArg = args.SkipWhile(a => a != "--redis").Skip(1).FirstOrDefault();

        await using var redis = await BenchRedis.StartAsync(redisArg);
        using var host = BuildSilo(redis.ConnectionString);
        await host.StartAsync();
        var grains = host.Services.GetRequiredService<IGrainFactory>();

        var setup = Stopwatch.StartNew();
        var ids = await RegisterAsync(grains, connections);
        Console.WriteLine($"registered {connections} connections in {setup.Elapsed.TotalSeconds:F1} s");

        await DriveAsync(grains, ids, concurrency, TimeSpan.FromSeconds(warmup));
        var before = await redis.CommandCallsAsync();
        var run = await DriveAsync(grains, ids, concurrency, TimeSpan.FromSeconds(seconds));
        var after = await redis.CommandCallsAsync();

        var total = after.Sum(kv => kv.Value - before.GetValueOrDefault(kv.Key)) - 1; // minus our own INFO
        var writes = after.Where(kv => IsWrite(kv.Key)).Sum(kv => kv.Value - before.GetValueOrDefault(kv.Key));
        var latencies = run.Latencies;
        Array.Sort(latencies);
        Console.WriteLine($"connections      {connections}");
        Console.WriteLine($"concurrency      {concurrency} outstanding calls");
        Console.WriteLine($"duration         {run.Elapsed.TotalSeconds:F1} s (after {warmup} s warm-up)");
        Console.WriteLine($"heartbeats       {latencies.Length} ({latencies.Length / run.Elapsed.TotalSeconds:F0}/s), errors {run.Errors}");
        Console.WriteLine($"latency p50      {Ms(Percentile(latencies, 0.50)):F3} ms");
        Console.WriteLine($"latency p90      {Ms(Percentile(latencies, 0.90)):F3} ms");
        Console.WriteLine($"latency p99      {Ms(Percentile(latencies, 0.99)):F3} ms");
        Console.WriteLine($"latency mean     {(latencies.Length == 0 ? 0 : Ms((long)latencies.Average())):F3} ms");
        Console.WriteLine($"redis writes     {writes / run.Elapsed.TotalSeconds:F0}/s ({string.Join(", ", after.Where(kv => IsWrite(kv.Key)).Select(kv => $"{kv.Key} {kv.Value - before.GetValueOrDefault(kv.Key)}"))})");
        Console.WriteLine($"redis scripts    {(after.GetValueOrDefault("evalsha") - before.GetValueOrDefault("evalsha") + after.GetValueOrDefault("eval") - before.GetValueOrDefault("eval")) / run.Elapsed.TotalSeconds:F0}/s (grain-state writes; their HMSET is in the line above)");
        Console.WriteLine($"redis commands   {total / run.Elapsed.TotalSeconds:F0}/s (all, including those inside scripts)");
        await host.StopAsync();
        return 0;
    }

    private static IHost BuildSilo(string redis)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Error);
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(siloPort: 21111, gatewayPort: 40000, serviceId: "bench", clusterId: "bench");
            // Production defaults: 5 s heartbeats, heartbeat-only changes persisted at most every 5 s.
            silo.AddControllerProviders(new ControllerSiloOptions { Storage = StorageKind.Redis, Redis = redis }, new ConnectionHealthOptions());
        });
        return builder.Build();
    }

    private static async Task<string[]> RegisterAsync(IGrainFactory grains, int connections)
    {
        const int perPool = 500;
        var pools = (connections + perPool - 1) / perPool;
        for (var p = 0; p < pools; p++)
        {
            var pool = grains.GetGrain<IServerPoolGrain>($"bench-pool-{p}");
            await pool.AddOrUpdateServer(new ServerDefinition("s-a", "10.0.0.1:8583", "a", perPool));
            await pool.AddOrUpdateServer(new ServerDefinition("s-b", "10.0.1.1:8583", "b", perPool));
        }
        var ids = Enumerable.Range(0, connections).Select(i => $"bench-conn-{i}").ToArray();
        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (id, _) =>
        {
            var index = int.Parse(id.AsSpan("bench-conn-".Length), CultureInfo.InvariantCulture);
            var connection = grains.GetGrain<IConnectionGrain>(id);
            await connection.Register(new ConnectionRegistration($"bank-{index}", $"bench-pool-{index / perPool}"));
            await connection.RecordHeartbeat(new Heartbeat(20, 0, 0, DateTimeOffset.UtcNow)); // Requested → Active
        });
        return ids;
    }

    private sealed record Run(long[] Latencies, TimeSpan Elapsed, long Errors);

    private static async Task<Run> DriveAsync(IGrainFactory grains, string[] ids, int concurrency, TimeSpan duration)
    {
        var refs = ids.Select(id => grains.GetGrain<IConnectionGrain>(id)).ToArray();
        long next = -1, errors = 0;
        var stopAt = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            var samples = new List<long>(1 << 14);
            var heartbeat = new Heartbeat(35, 0, 0, DateTimeOffset.UtcNow);
            while (Stopwatch.GetTimestamp() < stopAt)
            {
                var target = refs[(int)(Interlocked.Increment(ref next) % refs.Length)];
                var start = Stopwatch.GetTimestamp();
                try
                {
                    await target.RecordHeartbeat(heartbeat);
                    samples.Add(Stopwatch.GetTimestamp() - start);
                }
                catch (Exception)
                {
                    Interlocked.Increment(ref errors);
                }
            }
            return samples;
        })).ToArray();
        var all = await Task.WhenAll(workers);
        clock.Stop();
        return new Run(all.SelectMany(s => s).ToArray(), clock.Elapsed, errors);
    }

    private static bool IsWrite(string command) =>
        // Commands run inside Lua scripts are counted under their own name (Orleans' storage script does an HMSET),
        // so EVAL/EVALSHA are not counted again.
        command is "hset" or "hmset" or "set" or "del" or "expire" or "zadd" or "zrem" or "hdel" or "rpush" or "lpush";

    private static long Percentile(long[] sorted, double p) => sorted.Length == 0 ? 0 : sorted[(int)Math.Min(sorted.Length - 1, p * sorted.Length)];

    private static double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;

    private static int Arg(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }
}
