using System.Buffers;
using System.Diagnostics;
using OrleansControl.Codec;
using OrleansControl.Codec.Testing;

namespace OrleansControl.Benchmarks.Codec;

/// <summary>
/// A quick cross-check of the BenchmarkDotNet numbers on a shared machine: pack and unpack in a loop, reporting
/// the best of several rounds by wall clock and by process CPU time (which excludes time spent waiting for a core
/// while other processes run), plus bytes allocated per operation.
/// Run: dotnet run -c Release --project test/Benchmarks -- codec-perf [--ops 300000] [--rounds 5]
/// </summary>
public sealed class CodecPerfTool : ILoadTool
{
    public string Name => "codec-perf";

    public string Description => "codec pack/unpack ns/op by wall clock and CPU time: --ops N (300000) --rounds R (5)";

    public Task<int> RunAsync(string[] args)
    {
        var ops = Option(args, "--ops", 300_000);
        var rounds = Option(args, "--rounds", 5);
        Console.WriteLine($"{"spec",-22} {"message",-8} {"bytes",5}  {"pack wall/cpu ns",18}  {"unpack wall/cpu ns",18}  {"pack+unpack cpu ns",18}  {"alloc B/unpack",14}");
        foreach (var name in new[] { "iso8583-1987-ascii", "iso8583-1987-binary", "iso8583-1993-ascii" })
        {
            var spec = MessageSpec.BuiltIn(name);
            foreach (var (label, message) in new[] { ("0200", CodecSamples.Authorization(spec)), ("0800", CodecSamples.Echo(spec)) })
            {
                var writer = new ArrayBufferWriter<byte>(1024);
                var bytes = spec.Pack(message);
                var pack = Best(rounds, ops, () =>
                {
                    writer.ResetWrittenCount();
                    spec.Pack(message, writer);
                });
                var before = GC.GetAllocatedBytesForCurrentThread();
                var unpack = Best(rounds, ops, () => spec.Unpack(bytes));
                var allocated = (GC.GetAllocatedBytesForCurrentThread() - before) / (rounds * (long)ops);
                Console.WriteLine($"{name,-22} {label,-8} {bytes.Length,5}  {pack.Wall,8:F0} / {pack.Cpu,7:F0}  {unpack.Wall,8:F0} / {unpack.Cpu,7:F0}  {pack.Cpu + unpack.Cpu,18:F0}  {allocated,14}");
            }
        }

        return Task.FromResult(0);
    }

    private static (double Wall, double Cpu) Best(int rounds, int ops, Action action)
    {
        double wall = double.MaxValue, cpu = double.MaxValue;
        using var process = Process.GetCurrentProcess();
        for (var r = 0; r < rounds; r++)
        {
            process.Refresh();
            var cpu0 = process.TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < ops; i++)
            {
                action();
            }

            var elapsed = clock.Elapsed;
            process.Refresh();
            wall = Math.Min(wall, elapsed.TotalNanoseconds / ops);
            cpu = Math.Min(cpu, (process.TotalProcessorTime - cpu0).TotalNanoseconds / ops);
        }

        return (wall, cpu);
    }

    private static int Option(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture) : fallback;
    }
}
