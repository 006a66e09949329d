using System.Net.NetworkInformation;
using System.Text.RegularExpressions;

namespace OrleansControl.Demo.Tests;

/// <summary>
/// The README's first command, run briefly: it starts everything, injects one fault, prints its summary and ends,
/// leaving no process it started running and none of its ports listening; a second run works at once.
/// </summary>
[Collection(DemoRuns.Name)]
public sealed partial class DemoRunTests
{
    [Fact]
    public async Task A_short_run_with_a_killed_server_recovers_and_leaves_no_process_or_port_behind()
    {
        var run = await DemoProcess.RunAsync(TimeSpan.FromSeconds(90), "--faults", "kill", "--duration", "12", "--rate", "10");

        Assert.True(run.ExitCode == 0, $"exit code {run.ExitCode}{Environment.NewLine}{run.Output}");
        Assert.Contains("kill -9 srv-a: injected", run.Output);
        Assert.Matches(@"kill -9 srv-a: sidecar-1\.bank-1 ACTIVE on srv-[bc]", run.Output);
        Assert.Matches(@"kill -9 srv-a: sidecar-1\.bank-1 first approval by srv-[bc]", run.Output);
        Assert.Matches(@"web view of the bank controller: https?://\S+/ui/ \(sign in with token [0-9a-f]{32}", run.Output);
        Assert.Contains("reversed (0430)", run.Output);
        Assert.Contains("nothing left running", run.Output);
        AssertNothingLeft(run);

        // A second run at once: nothing of the first is in its way.
        var again = await DemoProcess.RunAsync(TimeSpan.FromSeconds(60), "--faults", "none", "--duration", "6", "--rate", "10");
        Assert.True(again.ExitCode == 0, $"second run: exit code {again.ExitCode}{Environment.NewLine}{again.Output}");
        Assert.Contains("steady: every connection ACTIVE", again.Output);
        AssertNothingLeft(again);
    }

    [Fact]
    public async Task On_the_real_backend_a_killed_controller_comes_back_with_its_registry_and_everything_stops()
    {
        var run = await DemoProcess.RunAsync(TimeSpan.FromSeconds(150), "--backend", "real", "--faults", "controller", "--duration", "40", "--rate", "10");

        Assert.True(run.ExitCode == 0, $"exit code {run.ExitCode}{Environment.NewLine}{run.Output}");
        Assert.Contains("Kafka-protocol broker", run.Output);
        Assert.Matches(@"redis-server for bank on 127\.0\.0\.1:\d+ \(append-only file", run.Output);
        Assert.Contains("are in its Redis and wait for it", run.Output);
        Assert.Matches(@"kill -9 controller bank: sidecar-1\.bank-1 ACTIVE on srv-[abc]", run.Output);
        // Kept on Redis, the registry goes on from its versions: both regions agree at the end (in memory the bank
        // starts again from version 1 and the scheme's copy keeps the higher one).
        Assert.Matches(@"sidecar-1\.bank-1 +│ v(\d+) ACTIVE on (srv-[abc]) +│ v\1 ACTIVE on \2 +│ [^│]+│ yes", run.Output);
        AssertNothingLeft(run);
    }

    /// <summary>
    /// Every scenario of the README's first command, one after another (a server killed, one black-holed, the link between
    /// the regions cut and restored, the bank controller killed): each fault's connections are ACTIVE again on a live
    /// server and approving, no 0200 is lost or without an outcome, every unknown fate is reversed, both registries agree
    /// with the link at the end.
    /// </summary>
    [Fact]
    public async Task A_run_of_every_fault_recovers_each_loses_nothing_and_ends_with_both_registries_agreeing_with_the_link()
    {
        var run = await DemoProcess.RunAsync(TimeSpan.FromSeconds(300), "--faults", "all", "--rate", "10");

        Assert.True(run.ExitCode == 0, $"exit code {run.ExitCode}{Environment.NewLine}{run.Output}");
        string[] faults = ["kill -9 srv-", "black hole srv-", "link cut", "kill -9 controller bank"];
        var perFault = TableRows(run.Output).Where(r => r.Length == 11 && faults.Any(f => r[0].StartsWith(f, StringComparison.Ordinal))).ToList();
        foreach (var fault in faults)
        {
            var rows = perFault.Where(r => r[0].StartsWith(fault, StringComparison.Ordinal)).ToList();
            Assert.True(rows.Count > 0, $"no row for '{fault}' in the per-fault summary{Environment.NewLine}{run.Output}");
            // ACTIVE again and first approved both name a server: the connection came back and traffic flowed.
            Assert.All(rows, r => Assert.Matches(@"ms srv-[abc]$", r[3]));
            Assert.All(rows, r => Assert.Matches(@"ms srv-[abc]$", r[4]));
            Assert.All(rows, r => Assert.Equal("0", r[9])); // lost
        }

        var totals = TableRows(run.Output).Where(r => r.Length == 12 && r[0].StartsWith("bank-", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, totals.Count);
        foreach (var t in totals)
        {
            Assert.True(int.Parse(t[2], System.Globalization.CultureInfo.InvariantCulture) > 0, $"{t[0]} had nothing approved");
            Assert.Equal(t[5], t[6]); // every unknown fate reversed (0430)
            Assert.Equal("0", t[7]); // none pending or given up
            Assert.Equal("0", t[9]); // lost
            Assert.Equal("0", t[11]); // no outcome
        }

        var agreement = TableRows(run.Output).Where(r => r.Length == 6 && r[0].StartsWith("sidecar-", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, agreement.Count);
        Assert.All(agreement, r => Assert.True(r[4] == "yes", $"{r[0]}: bank {r[1]}, scheme {r[2]}, link {r[3]}: the registries do not agree with the link"));
        AssertNothingLeft(run);
    }

    /// <summary>The cells of every one-line row of the summary's tables (│-separated, trimmed).</summary>
    private static IEnumerable<string[]> TableRows(string output) =>
        output.Split(Environment.NewLine)
            .Where(l => l.StartsWith('│') && l.EndsWith('│'))
            .Select(l => l.Trim('│').Split('│').Select(c => c.Trim()).ToArray());

    [Fact]
    public async Task An_unknown_fault_is_refused_with_the_usage_before_anything_starts()
    {
        var run = await DemoProcess.RunAsync(TimeSpan.FromSeconds(30), "--faults", "meteor");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("unknown fault 'meteor'", run.Output);
        Assert.DoesNotContain("pid", run.Output);
    }

    /// <summary>Every pid and port the demo printed: no such process alive, nothing listening on such a port.</summary>
    private static void AssertNothingLeft(DemoResult run)
    {
        var pids = Pid().Matches(run.Output).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToHashSet();
        // The closing line lists every pid it started, restarts included.
        pids.UnionWith(Stopped().Matches(run.Output).SelectMany(m => m.Groups[1].Value.Split(", "))
            .Select(p => int.Parse(p, System.Globalization.CultureInfo.InvariantCulture)));
        var ports = Port().Matches(run.Output).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToHashSet();
        Assert.True(pids.Count >= 8, $"expected the demo to name every process it started (pid N), found {pids.Count}{Environment.NewLine}{run.Output}");
        Assert.True(ports.Count >= 8, $"expected the demo to name the ports it uses, found {ports.Count}{Environment.NewLine}{run.Output}");
        var alive = pids.Where(p => Directory.Exists($"/proc/{p}") && !IsZombie(p)).ToList();
        Assert.True(alive.Count == 0, $"still running after the demo ended: {string.Join(", ", alive)}");
        var listening = IPGlobalProperties.GetIPGlobalProperties().GetActiveTcpListeners().Select(e => e.Port).Where(ports.Contains).ToList();
        Assert.True(listening.Count == 0, $"still listening after the demo ended: {string.Join(", ", listening)}");
    }

    private static bool IsZombie(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z');
        }
        catch (IOException)
        {
            return true; // gone meanwhile
        }
    }

    [GeneratedRegex(@"\bpid (\d+)\)")]
    private static partial Regex Pid();

    [GeneratedRegex(@"processes \(pids ([\d, ]+)\)")]
    private static partial Regex Stopped();

    // 127.0.0.1:P, 10.213.N.2:P, "relay :P", "control :P"
    [GeneratedRegex(@"(?:127\.0\.0\.1|10\.213\.\d+\.2|relay |control ):(\d{4,5})\b")]
    private static partial Regex Port();
}
