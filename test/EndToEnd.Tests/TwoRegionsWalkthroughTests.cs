using System.Diagnostics;
using System.Text.RegularExpressions;
using OrleansControl.EndToEnd.Tests.Processes;
using Xunit.Abstractions;

namespace OrleansControl.EndToEnd.Tests;

/// <summary>
/// docs/two-regions.md executed as written: its shell blocks run in bash, its `dotnet run` lines run the built
/// programs with the same arguments, with free ports and a temporary directory in place of the page's. Certificates
/// come from deploy/two-regions/make-certs.sh; both controllers are real processes; a connection is assigned across
/// regions, a verdict relayed, the scheme frozen (kill -STOP) and thawed, and a server sidecar attached with the
/// private CA. If the page and the programs part, this fails.
/// </summary>
[Collection(RealProcessesCollection.Name)]
public sealed partial class TwoRegionsWalkthroughTests(ITestOutputHelper output) : IDisposable
{
    private static readonly int[] PagePorts = [18080, 19090, 28080, 29090, 21111, 21112, 23000, 23001, 28081];
    private readonly string _dir = Directory.CreateTempSubdirectory("oc-two-regions-").FullName;
    private readonly Dictionary<int, int> _ports = PagePorts.ToDictionary(p => p, _ => LoopbackPorts.Next());
    private readonly List<ChildProcess> _processes = [];
    private int? _frozen;

    private static string RepoRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "docs", "two-regions.md"))) return dir.FullName;
            }
            throw new DirectoryNotFoundException("docs/two-regions.md not found above the test's output");
        }
    }

    /// <summary>The page's fenced blocks, with our directory, repository and ports in place of the page's.</summary>
    private List<string> Blocks()
    {
        var text = File.ReadAllText(Path.Combine(RepoRoot, "docs", "two-regions.md"));
        var blocks = text.Split("```").Where((_, i) => i % 2 == 1).Select(b => b.Trim('\n')).ToList();
        return [.. blocks.Select(b =>
        {
            b = b.Replace("/tmp/two-regions", _dir, StringComparison.Ordinal).Replace("~/OrleansControl", RepoRoot, StringComparison.Ordinal);
            return PortNumber().Replace(b, m => _ports.TryGetValue(int.Parse(m.Value), out var ours) ? ours.ToString() : m.Value);
        })];
    }

    private static string Block(List<string> blocks, string containing) =>
        blocks.Single(b => b.Contains(containing, StringComparison.Ordinal));

    /// <summary>Runs a block in bash (after <paramref name="prelude"/>) and returns what it printed.</summary>
    private async Task<string> Bash(string script, string prelude = "")
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _dir };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add($"set -e\n{prelude}\n{script}");
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var all = await stdout + await stderr;
        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}: {script}{Environment.NewLine}{all}");
        return all;
    }

    /// <summary>A `dotnet run … --project X -- args` block, run as the built program with those args ($C expanded).</summary>
    private ChildProcess Run(string name, string dll, string block)
    {
        var joined = block.Replace("\\\n", " ", StringComparison.Ordinal);
        var line = joined.Split('\n').Single(l => l.TrimStart().StartsWith("dotnet run", StringComparison.Ordinal));
        var args = line[(line.IndexOf(" -- ", StringComparison.Ordinal) + 4)..].Replace("$C", _dir, StringComparison.Ordinal)
            .Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var process = ChildProcess.Start(name, dll, args);
        _processes.Add(process);
        return process;
    }

    private string Diagnostics() => string.Join(Environment.NewLine, _processes.Select(p => p.Tail(30)));

    [Fact]
    public async Task The_two_regions_walkthrough_runs_as_written()
    {
        var blocks = Blocks();

        // 2. Certificates.
        await Bash(Block(blocks, "make-certs.sh"));
        foreach (var file in new[] { "ca.pem", "server.pem", "server.key", "bank-eu.pfx", "scheme-eu.pfx", "alice.pem", "visa-1-sidecar.pfx" })
            Assert.True(File.Exists(Path.Combine(_dir, file)), $"make-certs.sh wrote no {file}");

        // 3 and 4. Both controllers; each says it started.
        var scheme = Run("scheme-eu", BuildOutput.Silo, Block(blocks, "--Controller:Role=scheme"));
        var bank = Run("bank-eu", BuildOutput.Silo, Block(blocks, "--Controller:Role=bank"));
        foreach (var controller in new[] { scheme, bank })
        {
            await Eventually.Until(() => Task.FromResult(controller.Wrote("Controller silo started: region") || controller.HasExited), up => up,
                $"{controller.Name} to start", TimeSpan.FromSeconds(60), Diagnostics);
            Assert.False(controller.HasExited, Diagnostics());
        }

        // 5. Use it: the prelude (cd, op, scheme, bank), then each block as written.
        var prelude = Block(blocks, "op=\"--cacert");
        var added = await Bash(Block(blocks, "$scheme/pools/visa/servers -d"), prelude);
        Assert.Contains("\"visa-2\"", added);
        var registered = await Bash(Block(blocks, "\"clientId\":\"acquirer-1\""), prelude);
        output.WriteLine(registered);
        Assert.Contains("\"serverId\":\"visa-2\"", registered);
        Assert.Contains("\"region\":\"bank-eu\"", registered);
        var connectionId = ConnectionId().Match(registered).Groups[1].Value;

        var listed = await Eventually.Until(() => Bash(Block(blocks, "curl $op \"$scheme/connections?region=bank-eu\"\ncurl"), prelude),
            o => o.Contains(connectionId, StringComparison.Ordinal) && o.Contains("\"load\":1", StringComparison.Ordinal),
            "the scheme to list the bank's connection and count it on visa-2", TimeSpan.FromSeconds(15), Diagnostics);
        output.WriteLine(listed);

        var verdict = Block(blocks, "SERVER_HEALTH_UNHEALTHY");
        await Bash(verdict.Split('\n')[0], prelude);
        await Eventually.Until(() => Bash(verdict.Split('\n')[1], prelude),
            o => o.Contains("\"failoverTarget\":\"visa-1\"", StringComparison.Ordinal) && o.Contains("CONNECTION_STATUS_MIGRATING", StringComparison.Ordinal),
            "the bank to move its connection off visa-2", TimeSpan.FromSeconds(15), Diagnostics);

        // 6. Take the link away: freeze the scheme, register on the bank (provisional), thaw, and the scheme has it.
        var freeze = Block(blocks, "kill -STOP").Replace("<pid of the scheme's OrleansControl.Silo process>", scheme.Pid.ToString(), StringComparison.Ordinal)
            .Replace("<pid>", scheme.Pid.ToString(), StringComparison.Ordinal).Split('\n');
        _frozen = scheme.Pid;
        var clock = Stopwatch.StartNew();
        var provisional = await Bash(string.Join('\n', freeze.Take(2)), prelude);
        output.WriteLine($"registration with the scheme frozen: {clock.ElapsedMilliseconds} ms: {provisional}");
        Assert.Contains("provisional: assigned from this region's mirror of pool visa while region scheme-eu is unreachable", provisional);
        await Bash(freeze.Single(l => l.StartsWith("kill -CONT", StringComparison.Ordinal)), prelude);
        _frozen = null;
        await Eventually.Until(() => Bash(freeze.Last(), prelude), o => o.Contains("acquirer-2", StringComparison.Ordinal),
            "the thawed scheme to list acquirer-2", TimeSpan.FromSeconds(15), Diagnostics);

        // Sidecars: a scheme server's sidecar attaches with the private CA and its client certificate.
        var sidecarBlock = Block(blocks, "--Sidecar:Agent:Server:ServerId");
        Run("visa-1-sidecar", BuildOutput.SidecarHost, sidecarBlock);
        // The page's own status call (in its prose), on our port.
        var status = StatusCall().Match(File.ReadAllText(Path.Combine(RepoRoot, "docs", "two-regions.md"))).Groups[1].Value
            .Replace("28081", _ports[28081].ToString(), StringComparison.Ordinal);
        async Task<string> Status()
        {
            try
            {
                return await Bash(status);
            }
            catch (Xunit.Sdk.XunitException)
            {
                return ""; // not listening yet
            }
        }
        await Eventually.Until(Status, o => o.Contains("\"controllerAttached\":true", StringComparison.Ordinal),
            "the server sidecar attached to the scheme", TimeSpan.FromSeconds(30), Diagnostics);
    }

    [GeneratedRegex("`(curl -s http://127\\.0\\.0\\.1:28081/control/status)`")]
    private static partial Regex StatusCall();

    [GeneratedRegex(@"\b\d{5}\b")]
    private static partial Regex PortNumber();

    [GeneratedRegex("\"connectionId\":\"([^\"]+)\"")]
    private static partial Regex ConnectionId();

    public void Dispose()
    {
        if (_frozen is { } pid) Process.Start("kill", ["-CONT", pid.ToString()])?.WaitForExit();
        foreach (var process in _processes) process.Dispose();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
