using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using OrleansControl.Benchmarks.Shared;
using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;

namespace OrleansControl.Benchmarks.Streams;

/// <summary>
/// What publishing a failover's events costs (kafka-events --failovers N): the same failovers on a controller with
/// memory streams and on one with the Kafka provider (mock broker), one at a time so the numbers are the calls' own.
/// Start = RequestFailover returning (Migrating persisted, the sidecar's command in its outbox, and on the bus the
/// status change, oc.failover.command and oc.server.stop-sending acknowledged); end = the heartbeat that signs on at
/// the target returning (Active persisted, the status change and oc.connection.established acknowledged).
/// </summary>
internal static class FailoverEventsCost
{
    public static async Task RunAsync(string bootstrapServers, int failovers)
    {
        Console.WriteLine($"failover cost: {failovers} failovers one at a time, {Environment.ProcessorCount} cores");
        var memory = await MeasureAsync(new Dictionary<string, string?>(), failovers);
        var kafka = await MeasureAsync(new Dictionary<string, string?>
        {
            ["Controller:Streams"] = "kafka",
            ["Controller:Kafka:BootstrapServers"] = bootstrapServers,
            ["Controller:Kafka:GroupId"] = $"bench-failover-{Guid.NewGuid():N}",
        }, failovers);
        Print("memory streams", memory);
        Print("kafka (acks=all)", kafka);
        Console.WriteLine($"added by Kafka: start p50 {P(kafka.Start, 0.5) - P(memory.Start, 0.5):F2} ms, end p50 {P(kafka.End, 0.5) - P(memory.End, 0.5):F2} ms, " +
            $"whole failover p50 {P(kafka.Start, 0.5) + P(kafka.End, 0.5) - P(memory.Start, 0.5) - P(memory.End, 0.5):F2} ms");
    }

    private static async Task<(double[] Start, double[] End)> MeasureAsync(Dictionary<string, string?> settings, int failovers)
    {
        var (app, _) = await InProcessController.StartAsync(settings);
        await using var _ = app;
        var grains = app.Services.GetRequiredService<IClusterClient>();
        var poolId = $"bench-pool-{Guid.NewGuid():N}";
        var pool = grains.GetGrain<IServerPoolGrain>(poolId);
        await pool.AddOrUpdateServer(new ServerDefinition("s-a1", "s-a1.bench:5000", "a", failovers * 2 + 10));
        await pool.AddOrUpdateServer(new ServerDefinition("s-b1", "s-b1.bench:5000", "b", failovers * 2 + 10));
        var start = new double[failovers];
        var end = new double[failovers];
        for (var i = -20; i < failovers; i++) // 20 warm-up failovers, not counted
        {
            var id = $"bench-fo-{Guid.NewGuid():N}";
            var connection = grains.GetGrain<IConnectionGrain>(id);
            var registered = await connection.Register(new ConnectionRegistration($"bank-{i}", poolId, "s-a1", SidecarId: $"sidecar-{i}"));
            await connection.RecordHeartbeat(new Heartbeat(20, 0, 0, DateTimeOffset.UtcNow, new LinkObservation(ObservedLinkState.SignedOn, registered.ServerAddress)));
            var t0 = Stopwatch.GetTimestamp();
            var moving = await connection.RequestFailover(new FailoverRequest("bench", $"bench-{id}"));
            var t1 = Stopwatch.GetTimestamp();
            await connection.RecordHeartbeat(new Heartbeat(20, 0, 0, DateTimeOffset.UtcNow, new LinkObservation(ObservedLinkState.SignedOn, "s-b1.bench:5000")));
            var t2 = Stopwatch.GetTimestamp();
            if (moving.Outcome != FailoverOutcome.Migrating || (await connection.GetState()).Status != ConnectionStatus.Active)
                throw new InvalidOperationException($"failover {i} did not complete ({moving.Outcome})");
            if (i < 0)
                continue;
            start[i] = Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds;
            end[i] = Stopwatch.GetElapsedTime(t1, t2).TotalMilliseconds;
        }
        return ([.. start.Order()], [.. end.Order()]);
    }

    private static void Print(string what, (double[] Start, double[] End) r) =>
        Console.WriteLine($"{what,-18}: start p50 {P(r.Start, 0.5):F2} ms p99 {P(r.Start, 0.99):F2} ms; end p50 {P(r.End, 0.5):F2} ms p99 {P(r.End, 0.99):F2} ms");

    private static double P(double[] sorted, double q) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(q * sorted.Length))];
}
