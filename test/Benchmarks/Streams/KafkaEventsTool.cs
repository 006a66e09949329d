using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Streams;
using OrleansControl.Benchmarks.Shared;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.GrainInterfaces.Streams;
using OrleansControl.KafkaBroker;

namespace OrleansControl.Benchmarks.Streams;

/// <summary>
/// Events through the Kafka stream provider on librdkafka's mock cluster (3 brokers, loopback): one silo composed as
/// production composes it with Controller:Streams=kafka, publishing ConnectionStatusChanged at fixed offered rates
/// across many connections and subscribed to the all-stream. Prints, per rate: events/s acknowledged and delivered,
/// publish (acks=all) p50/p99 — what publishing adds to a transition — and publish → subscriber p50/p99.
/// Args: --rates 1000,10000 --seconds 10 --connections 200 --concurrency 128; or --failovers N: what publishing a
/// failover's events adds to it (<see cref="FailoverEventsCost"/>).
/// </summary>
public sealed class KafkaEventsTool : ILoadTool
{
    public string Name => "kafka-events";

    public string Description => "events through the Kafka stream provider on the mock broker (events/s, publish and publish→subscriber p50/p99)";

    public async Task<int> RunAsync(string[] args)
    {
        var rates = (args.SkipWhile(a => a != "--rates").Skip(1).FirstOrDefault() ?? "1000,10000").Split(',').Select(int.Parse).ToArray();
        var seconds = ToolArgs.Int(args, "--seconds", 10);
        var connections = ToolArgs.Int(args, "--connections", 200);
        var concurrency = ToolArgs.Int(args, "--concurrency", 128);

        using var broker = MockKafkaCluster.Start(brokers: 3);
        if (ToolArgs.Int(args, "--failovers", 0) is > 0 and var failovers)
        {
            await FailoverEventsCost.RunAsync(broker.BootstrapServers, failovers);
            return 0;
        }
        var (app, _) = await InProcessController.StartAsync(new Dictionary<string, string?>
        {
            ["Controller:Streams"] = "kafka",
            ["Controller:Kafka:BootstrapServers"] = broker.BootstrapServers,
            ["Controller:Kafka:GroupId"] = $"bench-{Guid.NewGuid():N}",
        });
        await using var _app = app;
        var client = app.Services.GetRequiredService<IClusterClient>();
        var provider = client.GetStreamProvider(ControllerStreams.ProviderName);
        var received = new Observer();
        await provider.GetStream<ConnectionStatusChanged>(ControllerStreams.AllStatus).SubscribeAsync(received);
        var streams = Enumerable.Range(0, connections)
            .Select(i => provider.GetStream<ConnectionStatusChanged>(ControllerStreams.StatusOf($"bench-conn-{i}"))).ToArray();

        Console.WriteLine($"kafka-events: mock broker 3 brokers, {connections} connections, {concurrency} publishers, {seconds} s per rate, {Environment.ProcessorCount} cores");
        await RunRateAsync(streams, received, 200, 3, concurrency, print: false); // warm-up: receivers assigned, producer connected
        foreach (var rate in rates)
            await RunRateAsync(streams, received, rate, seconds, concurrency, print: true);
        return 0;
    }

    private static async Task RunRateAsync(IAsyncStream<ConnectionStatusChanged>[] streams, Observer received, int rate, int seconds,
        int concurrency, bool print)
    {
        received.Reset();
        var total = rate * seconds;
        var publishLatencies = new ConcurrentBag<double>();
        var next = -1;
        var started = Stopwatch.GetTimestamp();
        var publishers = Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < total)
            {
                // Open loop: event i is due at i / rate seconds after the start.
                var due = started + (long)(i * (double)Stopwatch.Frequency / rate);
                var wait = due - Stopwatch.GetTimestamp();
                if (wait > 0)
                    await Task.Delay(TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency));
                var sent = Stopwatch.GetTimestamp();
                // Version carries the send timestamp: publisher and subscriber share this process's clock.
                await streams[i % streams.Length].OnNextAsync(new ConnectionStatusChanged($"bench-conn-{i % streams.Length}", "bank-1", "s-a1",
                    ConnectionStatus.Active, ConnectionStatus.Active, sent, 100, null, "bench", DateTimeOffset.UtcNow));
                publishLatencies.Add(Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
            }
        })).ToArray();
        await Task.WhenAll(publishers);
        var published = Stopwatch.GetElapsedTime(started);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (received.Count < total && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        var delivered = Stopwatch.GetElapsedTime(started);
        if (!print)
            return;
        var pub = publishLatencies.Order().ToArray();
        var e2e = received.Latencies.Order().ToArray();
        Console.WriteLine($"offered {rate,6}/s: acked {total / published.TotalSeconds,8:F0} events/s, delivered {received.Count}/{total} " +
            $"({received.Count / delivered.TotalSeconds:F0}/s); publish p50 {P(pub, 0.50):F2} ms p99 {P(pub, 0.99):F2} ms; " +
            $"publish→subscriber p50 {P(e2e, 0.50):F1} ms p99 {P(e2e, 0.99):F1} ms");
    }

    private static double P(double[] sorted, double q) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(q * sorted.Length))];

    private sealed class Observer : IAsyncObserver<ConnectionStatusChanged>
    {
        private ConcurrentQueue<double> latencies = new();

        public ConcurrentQueue<double> Latencies => latencies;

        public int Count => latencies.Count;

        public void Reset() => latencies = new();

        public Task OnNextAsync(ConnectionStatusChanged item, StreamSequenceToken? token = null)
        {
            if (item.Reason == "bench")
                latencies.Enqueue(Stopwatch.GetElapsedTime(item.Version).TotalMilliseconds);
            return Task.CompletedTask;
        }

        public Task OnCompletedAsync() => Task.CompletedTask;

        public Task OnErrorAsync(Exception ex) => Task.CompletedTask;
    }
}
