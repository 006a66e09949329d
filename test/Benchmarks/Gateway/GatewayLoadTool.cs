using System.Diagnostics;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using OrleansControl.Contract.V1;
using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;

using OrleansControl.Benchmarks.Shared;

namespace OrleansControl.Benchmarks.Gateway;

/// <summary>
/// N sidecar streams heartbeating into a gateway co-hosted with one silo (in memory), over real loopback h2c.
/// Reports heartbeats/s applied by the connection grains and p50/p99 from send to grain update.
/// </summary>
public sealed class GatewayLoadTool : ILoadTool
{
    public string Name => "gateway-load";

    public string Description =>
        "N sidecar streams heartbeating through the gateway into one silo (--streams 2000 --per-stream 1 --seconds 20 --rate 0)";

    public async Task<int> RunAsync(string[] args)
    {
        var streams = ToolArgs.Int(args, "--streams", 2000);
        var seconds = ToolArgs.Int(args, "--seconds", 20);
        var rate = ToolArgs.Int(args, "--rate", 0); // total heartbeats/s; 0 = as fast as each stream can
        var perStream = ToolArgs.Int(args, "--per-stream", 1); // connections per sidecar; > 1 sends them as one HeartbeatBatch
        const int streamsPerChannel = 100;
        var minThreads = ToolArgs.Int(args, "--min-threads", 0);
        if (minThreads > 0) ThreadPool.SetMinThreads(minThreads, minThreads);

        var probe = new HeartbeatLatencyFilter(capacity: 20_000_000);
        var (app, grpcPort) = await InProcessController.StartAsync(
            new Dictionary<string, string?> { ["Controller:Health:HeartbeatInterval"] = "00:00:30" }, // timeouts out of the way
            silo => silo.AddIncomingGrainCallFilter(probe));
        await using var appLifetime = app;

        var grains = app.Services.GetRequiredService<IClusterClient>();
        // Pools of at most 500 connections: registration is not what this tool measures, and one pool grain
        // serialises its assignments.
        const int perPool = 500;
        var total = streams * perStream;
        for (var p = 0; p * perPool < total; p++)
        {
            var pool = grains.GetGrain<IServerPoolGrain>($"load-pool-{p}");
            await pool.AddOrUpdateServer(new ServerDefinition("srv-a", "10.0.0.1:5000", "zone-a", perPool));
            await pool.AddOrUpdateServer(new ServerDefinition("srv-b", "10.0.0.2:5000", "zone-b", perPool));
        }
        var ids = Enumerable.Range(0, streams).Select(i => $"load-{i:D5}").ToArray();
        string Connection(int stream, int k) => $"{ids[stream]}-{k}";
        await Parallel.ForEachAsync(Enumerable.Range(0, total), new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (n, _) =>
            await grains.GetGrain<IConnectionGrain>(Connection(n / perStream, n % perStream)).Register(new ConnectionRegistration(
                $"client-{n}", $"load-pool-{n / perPool}", null,
                System.Collections.Immutable.ImmutableDictionary<string, string>.Empty.Add("oc.sidecar_id", $"sidecar-{ids[n / perStream]}"))));

        var channels = Enumerable.Range(0, (streams + streamsPerChannel - 1) / streamsPerChannel)
            .Select(_ => GrpcChannel.ForAddress($"http://127.0.0.1:{grpcPort}", new GrpcChannelOptions
            {
                HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true },
            })).ToArray();

        using var stop = new CancellationTokenSource();
        var sent = 0L;
        var calls = new List<AsyncDuplexStreamingCall<SidecarMessage, ControllerMessage>>();
        for (var i = 0; i < streams; i++)
        {
            var call = new SidecarService.SidecarServiceClient(channels[i / streamsPerChannel]).Attach();
            await call.RequestStream.WriteAsync(new SidecarMessage { Register = new SidecarRegister { SidecarId = $"sidecar-{ids[i]}" } });
            calls.Add(call);
        }
        // Drain the down streams (Attached, possible rejections) so flow control never stalls them.
        var drains = calls.Select(c => Task.Run(async () =>
        {
            try
            {
                await foreach (var m in c.ResponseStream.ReadAllAsync())
                {
                    if (m.BodyCase == ControllerMessage.BodyOneofCase.Rejected) Console.Error.WriteLine($"rejected: {m.Rejected.Message}");
                }
            }
            catch (RpcException)
            {
            }
        })).ToArray();

        var interval = rate > 0 ? TimeSpan.FromSeconds((double)streams * perStream / rate) : TimeSpan.Zero;
        var senders = calls.Select((c, i) => Task.Run(async () =>
        {
            var beats = Enumerable.Range(0, perStream)
                .Select(k => new OrleansControl.Contract.V1.Heartbeat { ConnectionId = Connection(i, k), EchoRttMs = 8 }).ToArray();
            var message = perStream == 1 ? new SidecarMessage { Heartbeat = beats[0] } : new SidecarMessage { HeartbeatBatch = new HeartbeatBatch { Heartbeats = { beats } } };
            using var timer = interval > TimeSpan.Zero ? new PeriodicTimer(interval) : null;
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    var now = Timestamp.FromDateTime(DateTime.UtcNow);
                    foreach (var b in beats) b.SentAt = now;
                    await c.RequestStream.WriteAsync(message);
                    Interlocked.Add(ref sent, perStream);
                    if (timer is not null && !await timer.WaitForNextTickAsync(stop.Token)) break;
                }
            }
            catch (OperationCanceledException)
            {
            }
        })).ToArray();

        // Warm-up: first heartbeats pay the ownership check; then measure.
        await Task.Delay(TimeSpan.FromSeconds(3));
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        probe.Recording = true;
        var clock = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(seconds));
        probe.Recording = false;
        var elapsed = clock.Elapsed.TotalSeconds;
        var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;
        await stop.CancelAsync();
        await Task.WhenAll(senders);

        var applied = probe.Count;
        var (p50, p99, max) = probe.Percentiles();
        Console.WriteLine($"gateway-load: {streams} streams x {perStream} connections, {seconds} s, target rate {(rate == 0 ? "max" : rate.ToString())}/s, " +
                          $"{Environment.ProcessorCount} cores, server GC {System.Runtime.GCSettings.IsServerGC}");
        Console.WriteLine($"  heartbeats applied by grains: {applied:N0} ({applied / elapsed:N0}/s)");
        Console.WriteLine($"  send -> grain update: p50 {p50:F2} ms, p99 {p99:F2} ms, max {max:F2} ms");
        Console.WriteLine($"  process CPU: {cpu / elapsed:F2} cores busy (client and server share the machine)");

        foreach (var c in calls)
        {
            try
            {
                await c.RequestStream.CompleteAsync();
            }
            catch (Exception)
            {
                // Already torn down.
            }
        }
        await Task.WhenAny(Task.WhenAll(drains), Task.Delay(5000));
        foreach (var c in calls) c.Dispose();
        foreach (var ch in channels) ch.Dispose();
        await app.StopAsync();
        return 0;
    }


}
