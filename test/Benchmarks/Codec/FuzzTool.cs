using System.Diagnostics;
using OrleansControl.Codec;
using OrleansControl.Codec.Testing;

namespace OrleansControl.Benchmarks.Codec;

/// <summary>
/// The long codec fuzz run: millions of mutated and random inputs, spread evenly over the built-in specs.
/// Every input must unpack (and re-pack byte-identically) or raise Iso8583Exception; the first violation stops
/// the run with its spec, seed, iteration and input, and exit code 1.
/// Run: dotnet run -c Release --project test/Benchmarks -- fuzz --count 10000000 [--seed N] [--threads N] [--spec NAME]
/// </summary>
public sealed class FuzzTool : ILoadTool
{
    public string Name => "fuzz";

    public string Description => "codec robustness: --count N (10M) --seed S --threads T (1) --spec NAME (all built-in)";

    public Task<int> RunAsync(string[] args)
    {
        var count = long.Parse(Option(args, "--count") ?? "10000000", System.Globalization.CultureInfo.InvariantCulture);
        var seed = int.Parse(Option(args, "--seed") ?? Random.Shared.Next().ToString(System.Globalization.CultureInfo.InvariantCulture), System.Globalization.CultureInfo.InvariantCulture);
        var threads = int.Parse(Option(args, "--threads") ?? "1", System.Globalization.CultureInfo.InvariantCulture);
        var specs = Option(args, "--spec") is { } one ? [one] : MessageSpec.BuiltInNames.ToArray();

        // One job per (spec, thread); each job has its own seed so any failure replays alone.
        var jobs = specs.SelectMany(s => Enumerable.Range(0, threads).Select(t => (Spec: s, Seed: seed + t))).ToArray();
        var perJob = (count + jobs.Length - 1) / jobs.Length; // round up: at least --count inputs in total
        var results = new (long Unpacked, long Rejected)[jobs.Length];
        Console.WriteLine($"fuzz: {perJob * jobs.Length:N0} inputs over {specs.Length} spec(s), {threads} thread(s), base seed {seed}");
        var clock = Stopwatch.StartNew();
        string? failure = null;
        Parallel.For(0, jobs.Length, new ParallelOptions { MaxDegreeOfParallelism = threads }, (j, state) =>
        {
            var fuzzer = new CodecFuzzer(MessageSpec.BuiltIn(jobs[j].Spec), jobs[j].Seed);
            long unpacked = 0, rejected = 0;
            try
            {
                for (long i = 0; i < perJob && !state.IsStopped; i++)
                {
                    if (fuzzer.RunOne() == FuzzOutcome.Unpacked)
                    {
                        unpacked++;
                    }
                    else
                    {
                        rejected++;
                    }
                }
            }
            catch (FuzzFailure e)
            {
                failure = e.Message;
                state.Stop();
            }

            results[j] = (unpacked, rejected);
        });
        clock.Stop();

        var total = results.Sum(r => r.Unpacked + r.Rejected);
        foreach (var group in jobs.Select((job, j) => (job.Spec, Result: results[j])).GroupBy(x => x.Spec))
        {
            var u = group.Sum(x => x.Result.Unpacked);
            var r = group.Sum(x => x.Result.Rejected);
            Console.WriteLine($"  {group.Key,-22} {u + r,12:N0} inputs  {u,10:N0} unpacked+re-packed  {r,12:N0} rejected (Iso8583Exception)");
        }

        Console.WriteLine($"total {total:N0} inputs in {clock.Elapsed.TotalSeconds:F1} s = {total / clock.Elapsed.TotalSeconds:N0} inputs/s");
        if (failure is not null)
        {
            Console.WriteLine($"FAILURE: {failure}");
            return Task.FromResult(1);
        }

        Console.WriteLine("result: every input unpacked (and re-packed byte-identically) or raised Iso8583Exception; 0 other outcomes");
        return Task.FromResult(0);
    }

    private static string? Option(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
