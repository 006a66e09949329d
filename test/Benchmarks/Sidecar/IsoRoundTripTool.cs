using System.Diagnostics;
using System.Globalization;
using OrleansControl.Codec;
using OrleansControl.Samples.BankClient;
using OrleansControl.Samples.SchemeServer;
using OrleansControl.Sidecar;
using OrleansControl.Sidecar.Client;
using OrleansControl.Sidecar.Server;

namespace OrleansControl.Benchmarks.Sidecar;

/// <summary>
/// ISO 8583 request/response round trips over loopback TCP: the BankClient sample's 0200s through one
/// <see cref="IsoClient"/> connection to an <see cref="IsoServer"/> answering with the SchemeServer sample's
/// responder, pipelined with N requests in flight (N workers, each send → await response → send).
/// Usage: iso-rtt [--seconds 5] [--warmup 1] [--levels 1,8,64]
/// </summary>
public sealed class IsoRoundTripTool : ILoadTool
{
    public string Name => "iso-rtt";

    public string Description => "ISO 8583 round trips/s and latency over loopback TCP, one connection, 1/8/64 in flight";

    public async Task<int> RunAsync(string[] args)
    {
        var seconds = Arg(args, "--seconds", 5.0);
        var warmup = Arg(args, "--warmup", 1.0);
        var levels = (ArgText(args, "--levels") ?? "1,8,64").Split(',').Select(int.Parse).ToArray();

        var responder = new AuthorizationResponder("bench");
        await using var server = new IsoServer(new IsoServerOptions { Name = "bench-scheme", Listen = "127.0.0.1:0" }, responder);
        server.Start();
        await using var link = new IsoClient(new IsoClientOptions
        {
            Name = "bench-bank",
            Server = $"127.0.0.1:{server.Endpoint!.Port}",
            InstitutionId = "12345",
            EchoInterval = TimeSpan.FromMinutes(5),
            MaxInFlight = 1024,
        });
        link.Start();
        while (link.State != OrleansControl.Sidecar.Health.ConnectionState.SignedOn)
        {
            await Task.Delay(10);
        }

        var spec = MessageSpec.BuiltIn(IsoWireSpec);
        var traffic = new AuthorizationTraffic(link, "TERM0001");
        Console.WriteLine($"iso-rtt: {Environment.ProcessorCount} cores, {seconds:F0} s per level after {warmup:F0} s warm-up, spec {spec.Name}, framing binary2");
        Console.WriteLine($"{"in flight",9} {"round trips/s",14} {"p50 µs",9} {"p99 µs",9} {"p99.9 µs",9} {"max µs",9} {"errors",7}");
        foreach (var level in levels)
        {
            await MeasureAsync(link, traffic, spec, level, TimeSpan.FromSeconds(warmup), record: false);
            var result = await MeasureAsync(link, traffic, spec, level, TimeSpan.FromSeconds(seconds), record: true);
            Console.WriteLine(result);
        }

        return 0;
    }

    private const string IsoWireSpec = OrleansControl.Sidecar.Connections.IsoWire.DefaultSpec;

    private static async Task<string> MeasureAsync(IsoClient link, AuthorizationTraffic traffic, MessageSpec spec, int inFlight, TimeSpan duration, bool record)
    {
        var latencies = new List<long>[inFlight];
        var errors = 0L;
        var stop = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var started = Stopwatch.GetTimestamp();
        var workers = Enumerable.Range(0, inFlight).Select(w => Task.Run(async () =>
        {
            var mine = latencies[w] = new List<long>(1 << 16);
            while (Stopwatch.GetTimestamp() < stop)
            {
                var t0 = Stopwatch.GetTimestamp();
                try
                {
                    await link.SendAsync(traffic.Next(spec, 100 + w)).ConfigureAwait(false);
                    mine.Add(Stopwatch.GetTimestamp() - t0);
                }
                catch (SidecarException)
                {
                    Interlocked.Increment(ref errors);
                }
            }
        })).ToArray();
        await Task.WhenAll(workers);
        var elapsed = Stopwatch.GetElapsedTime(started);
        if (!record)
        {
            return "";
        }

        var all = latencies.SelectMany(l => l).ToArray();
        Array.Sort(all);
        double Us(double q) => all.Length == 0 ? 0 : all[Math.Min(all.Length - 1, (int)(q * all.Length))] * 1_000_000.0 / Stopwatch.Frequency;
        var rate = all.Length / elapsed.TotalSeconds;
        return string.Create(CultureInfo.InvariantCulture,
            $"{inFlight,9} {rate,14:N0} {Us(0.50),9:F0} {Us(0.99),9:F0} {Us(0.999),9:F0} {Us(1.0) - 0,9:F0} {errors,7}");
    }

    private static double Arg(string[] args, string name, double fallback) =>
        ArgText(args, name) is { } text ? double.Parse(text, CultureInfo.InvariantCulture) : fallback;

    private static string? ArgText(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
