using System.Diagnostics;
using System.Globalization;

namespace OrleansControl.Benchmarks.Failover.DataPath;

/// <summary>
/// A network namespace joined to the host by a veth pair on a private /30, for a real black hole (shared/NOTES.md):
/// the scheme server runs inside, and <see cref="BlackHole"/> makes every packet to and from it vanish (no RST, no
/// error, the host's kernel keeps retransmitting). Unlike the tests' copy it can be brought back
/// (<see cref="Restore"/>) so that one namespace serves every trial of a run.
/// </summary>
/// <remarks>
/// Copied from test/Sidecar.Tests/Support/NetworkNamespace.cs (the benchmark does not reference the test project),
/// with another name prefix and subnet (10.205.x.y) so that a benchmark and the tests can run at the same time, and
/// <see cref="Restore"/> added. A change to the recipe belongs in both.
/// </remarks>
internal sealed class NetworkNamespace : IDisposable
{
    private static readonly List<NetworkNamespace> Created = [];
    private int _disposed;

    static NetworkNamespace()
    {
        // A run stopped with Ctrl-C or ending by an exception still deletes what it made (kill -9 cannot be helped:
        // the names start with ocbb- so that leftovers can be found with `ip netns list`).
        AppDomain.CurrentDomain.ProcessExit += (_, _) => DisposeAll();
        Console.CancelKeyPress += (_, _) => DisposeAll();
    }

    private NetworkNamespace(string id, int third, int fourth)
    {
        Name = $"ocbb-{id}";
        HostLink = $"obh{id}";
        InnerLink = $"obn{id}";
        HostAddress = $"10.205.{third}.{fourth + 1}";
        InnerAddress = $"10.205.{third}.{fourth + 2}";
    }

    public string Name { get; }

    public string HostLink { get; }

    public string InnerLink { get; }

    public string HostAddress { get; }

    /// <summary>Where a server inside listens; the host reaches it through the veth pair.</summary>
    public string InnerAddress { get; }

    public bool BlackHoled { get; private set; }

    /// <summary>
    /// Creates one (with the host's neighbour entry pinned, see <see cref="BlackHole"/>), or returns null with the
    /// reason when this machine refuses (not root, no ip).
    /// </summary>
    public static NetworkNamespace? TryCreate(int third, int fourth, out string reason)
    {
        var ns = new NetworkNamespace(Guid.NewGuid().ToString("N")[..8], third, fourth);
        try
        {
            Ip("netns", "add", ns.Name);
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            reason = $"ip netns add refused: {ex.Message}";
            return null;
        }

        lock (Created) Created.Add(ns);
        try
        {
            Ip("link", "add", ns.HostLink, "type", "veth", "peer", "name", ns.InnerLink);
            Ip("link", "set", ns.InnerLink, "netns", ns.Name);
            Ip("addr", "add", $"{ns.HostAddress}/30", "dev", ns.HostLink);
            Ip("link", "set", ns.HostLink, "up");
            ns.Inside("ip", "addr", "add", $"{ns.InnerAddress}/30", "dev", ns.InnerLink);
            ns.Inside("ip", "link", "set", ns.InnerLink, "up");
            ns.Inside("ip", "link", "set", "lo", "up");
            // ARP must not give the black hole away: the host keeps the namespace's MAC for good.
            var mac = ns.Inside("cat", $"/sys/class/net/{ns.InnerLink}/address").Trim();
            Ip("neigh", "replace", ns.InnerAddress, "lladdr", mac, "dev", ns.HostLink, "nud", "permanent");
            reason = "";
            return ns;
        }
        catch (Exception ex)
        {
            ns.Dispose();
            reason = $"setting up namespace {ns.Name} failed: {ex.Message}";
            return null;
        }
    }

    /// <summary>
    /// Every packet to and from the namespace vanishes from now: all egress inside dropped (the fault starts there),
    /// then the inner address removed so that nothing arriving is answered either.
    /// </summary>
    public void BlackHole()
    {
        BlackHoled = true;
        Inside("tc", "qdisc", "add", "dev", InnerLink, "root", "pfifo", "limit", "0");
        Inside("ip", "addr", "del", $"{InnerAddress}/30", "dev", InnerLink);
    }

    /// <summary>Undoes <see cref="BlackHole"/>: the address back, the dropping qdisc gone.</summary>
    public void Restore()
    {
        if (!BlackHoled)
            return;
        Inside("ip", "addr", "add", $"{InnerAddress}/30", "dev", InnerLink);
        Inside("tc", "qdisc", "del", "dev", InnerLink, "root");
        BlackHoled = false;
    }

    public string Inside(params string[] command) => Ip(["netns", "exec", Name, .. command]);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        TryIp("netns", "del", Name);
        TryIp("link", "del", HostLink); // normally gone with its peer; a leftover is removed here
        lock (Created) Created.Remove(this);
    }

    private static void DisposeAll()
    {
        NetworkNamespace[] all;
        lock (Created) all = [.. Created];
        foreach (var ns in all)
            ns.Dispose();
    }

    /// <summary>True when <c>ip netns list</c> still shows it (for the end-of-run check).</summary>
    public static IReadOnlyList<string> Leftovers(IEnumerable<string> names)
    {
        var listed = Ip("netns", "list");
        return names.Where(n => listed.Contains(n, StringComparison.Ordinal)).ToList();
    }

    private static void TryIp(params string[] args)
    {
        try
        {
            Ip(args);
        }
        catch (InvalidOperationException)
        {
        }
    }

    private static string Ip(params string[] args)
    {
        var start = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);

        using var process = Process.Start(start) ?? throw new InvalidOperationException("ip did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        if (!process.WaitForExit(10_000) || process.ExitCode != 0)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"ip {string.Join(' ', args)} failed ({(process.HasExited ? process.ExitCode : -1)}): {error.Trim()}"));
        }

        return output.Result;
    }
}
