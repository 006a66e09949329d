using System.Runtime;
using System.Runtime.InteropServices;
using OrleansControl.Benchmarks.Failover.DataPath;
using OrleansControl.Benchmarks.Shared;

namespace OrleansControl.Benchmarks.Failover;

/// <summary>
/// Failover on the data path, nothing faked: the controller (in process, real gateway on loopback), three scheme
/// servers as child processes, the real sidecar (IsoClient + SidecarAgent) attached to the controller, and a steady
/// load of 0200s through the sidecar (<see cref="DataPathRig"/>). Each trial kills -9 the server the link is signed on
/// at and measures kill → first approved 0210 from the backup, the transactions left without a definite outcome and,
/// all the time, every interval in which the registry says ACTIVE where the link is not (<see cref="RegistryWatch"/>).
/// Between trials the killed server is started again on its port, warmed and, because the kill got it ejected on
/// evidence, reinstated by an operator's SetServerHealth(Healthy), so every trial has two healthy backups.
/// </summary>
public sealed class FailoverDataPathTool : ILoadTool
{
    public string Name => "failover-datapath";

    public string Description =>
        "kill -9 the scheme server under the real sidecar carrying 0200s (--trials 20 --rate 200 --echo-ms 1000 --timeout-ms 1000 " +
        "--heartbeat-ms 1000 --poll-ms 20 --steady-ms 1000 --warm-up 200)";

    public async Task<int> RunAsync(string[] args)
    {
        var trials = ToolArgs.Int(args, "--trials", 20);
        var warmUpTrials = ToolArgs.Int(args, "--warm-up-trials", 1);
        var settings = new DataPathSettings(
            Rate: ToolArgs.Int(args, "--rate", 200),
            EchoMs: ToolArgs.Int(args, "--echo-ms", 1000),
            TimeoutMs: ToolArgs.Int(args, "--timeout-ms", 1000),
            HeartbeatMs: ToolArgs.Int(args, "--heartbeat-ms", 1000),
            PollMs: ToolArgs.Int(args, "--poll-ms", 20),
            SteadyMs: ToolArgs.Int(args, "--steady-ms", 1000),
            WarmUp: ToolArgs.Int(args, "--warm-up", 200));
        PrintMachine(args);
        Console.WriteLine($"settings: 3 scheme servers (child processes, 3 zones), {settings.Rate} 0200/s open loop, echo after {settings.EchoMs} ms idle " +
            $"with {settings.TimeoutMs} ms timeout, request timeout {settings.TimeoutMs} ms, heartbeat {settings.HeartbeatMs} ms, registry polled every " +
            $"{settings.PollMs} ms, {settings.SteadyMs} ms of traffic before each kill, " +
            (settings.WarmUp > 0 ? $"each (re)started server warmed with {settings.WarmUp} 0200s on a throwaway link" : "backups cold (freshly started processes)") +
            $", {warmUpTrials} warm-up trial(s) not counted");

        await using var rig = await DataPathRig.StartAsync(settings);
        // The first failover after the process starts runs the controller's and the sidecar's failover paths cold (JIT):
        // shown, not counted, since a controller runs for months. Its transactions and disagreements are not counted either.
        var warmUps = new List<DataPathTrial>();
        for (var n = 1; n <= warmUpTrials; n++)
            warmUps.Add(await rig.RunTrialAsync(-n));
        var results = new List<DataPathTrial>();
        for (var n = 1; n <= trials; n++)
            results.Add(await rig.RunTrialAsync(n));
        await rig.StopAsync();
        foreach (var w in warmUps)
            Console.WriteLine($"  warm-up trial (not counted): kill {w.Killed} -> {w.Backup}: first approved {w.FirstApprovedMs:F1} ms, " +
                $"link down {w.LinkDownMs:F1}, Failed {w.RegistryFailedMs:F1}, Migrating {w.RegistryMigratingMs:F1}, signed on {w.LinkSignedOnMs:F1}");

        // Each trial owns the transactions sent and the disagreements begun from its start to the next trial's.
        var all = rig.Load.Since(results.Count == 0 ? 0 : results[0].FirstTxn);
        var offset = results.Count == 0 ? 0 : results[0].FirstTxn;
        var lies = rig.Watch.Lies;
        var perTrial = new List<Txn[]>();
        Console.WriteLine();
        for (var i = 0; i < results.Count; i++)
        {
            var last = i + 1 == results.Count;
            var txns = all[(results[i].FirstTxn - offset)..(last ? all.Length : results[i + 1].FirstTxn - offset)];
            var until = last ? long.MaxValue : results[i + 1].StartedAt;
            perTrial.Add(txns);
            DataPathReport.PrintTrial(results[i], txns, lies.Where(l => l.From >= results[i].StartedAt && l.From < until).ToList());
        }
        var counted = lies.Where(l => results.Count > 0 && l.From >= results[0].StartedAt).ToArray();
        DataPathReport.PrintSummary(results, perTrial, all, counted, rig.Watch, settings.PollMs);
        Console.WriteLine($"finished {DateTimeOffset.UtcNow:HH:mm} UTC, {LoadAverage()}");
        return 0;
    }

    private static void PrintMachine(string[] args)
    {
        var cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        Console.WriteLine($"failover-datapath: {Environment.ProcessorCount} cores ({cpu ?? RuntimeInformation.ProcessArchitecture.ToString()}), " +
            $"{RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}, {(GCSettings.IsServerGC ? "Server" : "Workstation")} GC, " +
            $"{DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC, {LoadAverage()}");
        Console.WriteLine($"command: dotnet run -c Release --project test/Benchmarks -- failover-datapath {string.Join(' ', args)}".TrimEnd());
    }

    /// <summary>Other work on the machine shares the cores with every process of this benchmark: say how much.</summary>
    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? $"load average {string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3))}" : "load average unknown";
}
