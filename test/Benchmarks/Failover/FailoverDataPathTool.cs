using System.Runtime;
using System.Runtime.InteropServices;
using OrleansControl.Benchmarks.Failover.DataPath;
using OrleansControl.Benchmarks.Shared;
using OrleansControl.Grains.Connections;
using OrleansControl.Sidecar.Agent;
using OrleansControl.Sidecar.Client;

namespace OrleansControl.Benchmarks.Failover;

/// <summary>
/// Failover on the data path, nothing faked: the controller (in process, real gateway on loopback), three scheme
/// servers as child processes, the real sidecar (IsoClient + SidecarAgent) attached to the controller, and a steady
/// load of 0200s through the sidecar (<see cref="DataPathRig"/>). Each trial faults the server the link is signed on
/// at and measures fault → first approved 0210 from the backup, every transaction's outcome and, all the time, every
/// interval in which the registry says ACTIVE where the link is not (<see cref="RegistryWatch"/>). The faults
/// (<c>--scenario</c>): <c>kill</c> (kill -9), <c>blackhole</c> (each server in its own network namespace, whose
/// packets then vanish), <c>controller-down</c> (the controller stopped, then kill -9, then the controller started
/// again). Between trials the faulted server is brought back, warmed and, if the fault got it ejected on evidence,
/// reinstated by an operator's SetServerHealth(Healthy), so every trial has two healthy backups.
/// </summary>
public sealed class FailoverDataPathTool : ILoadTool
{
    public string Name => "failover-datapath";

    public string Description =>
        "fault the scheme server under the real sidecar carrying 0200s (--scenario kill|blackhole|controller-down --trials 20 --rate 200 " +
        "--echo-ms 1000 --timeout-ms 1000 --request-timeout-ms <timeout> --heartbeat-ms 1000 --defaults --poll-ms 20 --steady-ms 1000 --warm-up 200 --reversals on|off)";

    public async Task<int> RunAsync(string[] args)
    {
        var scenario = ToolArgs.String(args, "--scenario", "kill") switch
        {
            "kill" => FaultScenario.Kill,
            "blackhole" or "black-hole" => FaultScenario.BlackHole,
            "controller-down" => FaultScenario.ControllerDown,
            var other => throw new ArgumentException($"--scenario {other}: expected kill, blackhole or controller-down"),
        };
        var trials = ToolArgs.Int(args, "--trials", 20);
        var warmUpTrials = ToolArgs.Int(args, "--warm-up-trials", 1);
        var settings = Settings(args, scenario);
        PrintMachine(args);
        var target = scenario switch
        {
            FaultScenario.BlackHole => new RecoveryTarget(settings.EchoMs + settings.TimeoutMs + 300, "echo interval + echo timeout + 300 ms",
                "judged from detection: nothing can see a black hole before its first echo miss, so the raw figure counts " +
                "the echo interval and timeout as disagreement; compare 'registry on the backup' with 'own move done'"),
            FaultScenario.ControllerDown => new RecoveryTarget(1500, "the sidecar's own decision"),
            _ => new RecoveryTarget(100, "kill -9 with the controller up"),
        };
        Console.WriteLine($"scenario {scenario}: {Describe(scenario)}");
        Console.WriteLine($"settings: 3 scheme servers (child processes, 3 zones{(scenario == FaultScenario.BlackHole ? ", each in its own network namespace" : ", loopback")}), " +
            $"{settings.Rate} 0200/s open loop, echo after {settings.EchoMs} ms idle with {settings.TimeoutMs} ms timeout, request timeout {settings.RequestTimeoutMs} ms, " +
            $"heartbeat {settings.HeartbeatMs} ms, " +
            (settings.Reversals ? $"timeout reversals on (the product's schedule, journal in a temporary directory of this run, settle time {DataPathRig.SettleTimeFor(settings).TotalSeconds:F0} s), " : "timeout reversals OFF, ") +
            $"move-command timeout {new SidecarAgentOptions().MoveCommandTimeout.TotalMilliseconds:F0} ms, make-before-break on suspicion " +
            $"{(new SidecarAgentOptions().MakeBeforeBreakOnSuspicion ? "on" : "off")}, registry polled every {settings.PollMs} ms, {settings.SteadyMs} ms of traffic before each fault, " +
            (settings.WarmUp > 0 ? $"each (re)started server warmed with {settings.WarmUp} 0200s on a throwaway link" : "backups cold (freshly started processes)") +
            $", {warmUpTrials} warm-up trial(s) not counted");

        NetworkNamespace[]? namespaces = null;
        if (scenario == FaultScenario.BlackHole)
        {
            namespaces = CreateNamespaces(out var refused);
            if (namespaces is null)
            {
                Console.WriteLine($"SKIPPED: the black-hole scenario needs network namespaces: {refused}");
                return 0;
            }
            Console.WriteLine($"namespaces: {string.Join(", ", namespaces.Select(n => $"{n.Name} ({n.InnerAddress} via {n.HostLink})"))}");
        }

        bool ok;
        try
        {
            ok = await RunTrialsAsync(settings, namespaces, trials, warmUpTrials, target);
        }
        finally
        {
            if (namespaces is not null)
            {
                foreach (var ns in namespaces) ns.Dispose(); // the rig did already, unless it never started
                var left = NetworkNamespace.Leftovers(namespaces.Select(n => n.Name));
                Console.WriteLine(left.Count == 0 ? "namespaces: all deleted" : $"namespaces: NOT deleted: {string.Join(", ", left)}");
            }
        }
        Console.WriteLine($"finished {DateTimeOffset.UtcNow:HH:mm} UTC, {LoadAverage()}");
        return ok ? 0 : 1;
    }

    /// <summary>Runs the trials and prints them; false when a transaction was lost or an unknown-fate 0200 was left unsettled.</summary>
    private static async Task<bool> RunTrialsAsync(DataPathSettings settings, NetworkNamespace[]? namespaces, int trials, int warmUpTrials, RecoveryTarget target)
    {
        await using var rig = await DataPathRig.StartAsync(settings, namespaces);
        // The first failover after the process starts runs the controller's and the sidecar's failover paths cold (JIT):
        // shown, not counted, since a controller runs for months. Its transactions and disagreements are not counted either.
        var warmUps = new List<DataPathTrial>();
        for (var n = 1; n <= warmUpTrials; n++)
            warmUps.Add(await rig.RunTrialAsync(-n));
        var results = new List<DataPathTrial>();
        for (var n = 1; n <= trials; n++)
        {
            results.Add(await rig.RunTrialAsync(n));
            Console.WriteLine($"  ... trial {n}: {results[^1].FirstApprovedMs:F1} ms");
        }
        await rig.StopAsync();
        var reversalsAtEnd = rig.Reversals;
        foreach (var w in warmUps)
            Console.WriteLine($"  warm-up trial (not counted): {w.Fault} -> {w.Backup}: first approved {w.FirstApprovedMs:F1} ms");

        // Each trial owns the transactions sent and the disagreements begun from its start to the next trial's.
        var all = rig.Load.Since(results.Count == 0 ? 0 : results[0].FirstTxn);
        var offset = results.Count == 0 ? 0 : results[0].FirstTxn;
        var lies = rig.Watch.Lies;
        var perTrial = new List<Txn[]>();
        var counted = new List<(RegistryLie, long?)>();
        var reversals = default(ReversalCounts);
        var check = default(ReversalCheck);
        Console.WriteLine();
        for (var i = 0; i < results.Count; i++)
        {
            var last = i + 1 == results.Count;
            var txns = all[(results[i].FirstTxn - offset)..(last ? all.Length : results[i + 1].FirstTxn - offset)];
            var until = last ? long.MaxValue : results[i + 1].StartedAt;
            perTrial.Add(txns);
            var trialLies = lies.Where(l => l.From >= results[i].StartedAt && l.From < until).ToList();
            counted.AddRange(trialLies.Select(l => (l, results[i].DetectedAt)));
            // The trial owns what the link's counters did from its start to the next trial's (reversals settle within it).
            var trialReversals = ReversalCounts.Between(results[i].Reversals, last ? reversalsAtEnd : results[i + 1].Reversals);
            var trialCheck = ReversalCheck.Of(txns, results[i].FaultAt, rig.ReversalLog, rig.SettleTime);
            reversals += trialReversals;
            check += trialCheck;
            DataPathReport.PrintTrial(results[i], txns, trialLies, trialReversals, trialCheck);
        }
        return DataPathReport.PrintSummary(results, perTrial, all, counted, rig.Watch, settings.PollMs, target, reversals, check, rig.SettleTime,
            rig.ReversalLog.Unreadable);
    }

    /// <summary>
    /// The rig's knobs. <c>--defaults</c> takes the product's own defaults for everything that decides how fast a
    /// failure is seen (echo interval and timeout, request timeout, heartbeat); explicit options still win.
    /// </summary>
    private static DataPathSettings Settings(string[] args, FaultScenario scenario)
    {
        var defaults = args.Contains("--defaults");
        var link = new IsoClientOptions();
        var echo = ToolArgs.Int(args, "--echo-ms", defaults ? (int)link.EchoInterval.TotalMilliseconds : 1000);
        var timeout = ToolArgs.Int(args, "--timeout-ms", defaults ? (int)link.EchoTimeout.TotalMilliseconds : 1000);
        return new DataPathSettings(
            Scenario: scenario,
            Rate: ToolArgs.Int(args, "--rate", 200),
            EchoMs: echo,
            TimeoutMs: timeout,
            RequestTimeoutMs: ToolArgs.Int(args, "--request-timeout-ms", defaults ? (int)link.RequestTimeout.TotalMilliseconds : timeout),
            HeartbeatMs: ToolArgs.Int(args, "--heartbeat-ms", defaults ? (int)new ConnectionHealthOptions().HeartbeatInterval.TotalMilliseconds : 1000),
            PollMs: ToolArgs.Int(args, "--poll-ms", 20),
            SteadyMs: ToolArgs.Int(args, "--steady-ms", 1000),
            WarmUp: ToolArgs.Int(args, "--warm-up", 200),
            // Off only to see the check fail: every unknown-fate 0200 is then left unreversed and the run exits 1.
            Reversals: ToolArgs.String(args, "--reversals", "on") switch
            {
                "on" => true,
                "off" => false,
                var other => throw new ArgumentException($"--reversals {other}: expected on or off"),
            });
    }

    private static string Describe(FaultScenario scenario) => scenario switch
    {
        FaultScenario.BlackHole => "the server the link is on is black-holed (tc pfifo limit 0 + ip addr del inside its namespace, host neighbour pinned); " +
            "clock from just before the tc command; afterwards the server is killed, its network restored and a fresh process started",
        FaultScenario.ControllerDown => "the controller's host (silo + gateway) is stopped (StopAsync, streams cut after 5 s), the sidecar detaches, then the server " +
            "the link is on gets kill -9; clock from just before the signal; then the controller is started again on the same gRPC port, memory storage, " +
            "its pool declared again",
        _ => "kill -9 of the server the link is on, the controller up; clock from just before the signal",
    };

    /// <summary>One namespace per server on its own /30 of 10.205.R.0/24 (R random per run), or null with the reason.</summary>
    private static NetworkNamespace[]? CreateNamespaces(out string reason)
    {
        var third = Random.Shared.Next(0, 256);
        var made = new List<NetworkNamespace>();
        for (var i = 0; i < 3; i++)
        {
            if (NetworkNamespace.TryCreate(third, i * 4, out reason) is not { } ns)
            {
                foreach (var m in made) m.Dispose();
                return null;
            }
            made.Add(ns);
        }
        reason = "";
        return [.. made];
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
