using System.Diagnostics;
using System.Globalization;

namespace OrleansControl.Sidecar.Tests.Support;

/// <summary>
/// A network namespace joined to the host by a veth pair on a private /30, for a real black hole (see
/// shared/NOTES.md): names are unique per run, and the namespace (with its veth pair) is deleted on dispose.
/// </summary>
/// <remarks>
/// test/Benchmarks/Failover/DataPath/NetworkNamespace.cs is a copy (the benchmarks do not reference the tests) with its
/// own name prefix and subnet; a change to the recipe belongs in both.
/// </remarks>
internal sealed class NetworkNamespace : IDisposable
{
    private NetworkNamespace(string id, int third, int fourth)
    {
        Name = $"ocbh-{id}";
        HostLink = $"och{id}";
        InnerLink = $"ocn{id}";
        HostAddress = $"10.203.{third}.{fourth + 1}";
        InnerAddress = $"10.203.{third}.{fourth + 2}";
    }

    public string Name { get; }

    public string HostLink { get; }

    public string InnerLink { get; }

    public string HostAddress { get; }

    public string InnerAddress { get; }

    /// <summary>Creates one, or returns null with the reason when this machine refuses (not root, no ip).</summary>
    public static NetworkNamespace? TryCreate(out string reason)
    {
        var id = Guid.NewGuid().ToString("N")[..8];
        var third = Random.Shared.Next(0, 256);
        var fourth = Random.Shared.Next(0, 64) * 4;
        var ns = new NetworkNamespace(id, third, fourth);
        try
        {
            Ip("netns", "add", ns.Name);
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            reason = $"ip netns add refused: {ex.Message}";
            return null;
        }

        try
        {
            Ip("link", "add", ns.HostLink, "type", "veth", "peer", "name", ns.InnerLink);
            Ip("link", "set", ns.InnerLink, "netns", ns.Name);
            Ip("addr", "add", $"{ns.HostAddress}/30", "dev", ns.HostLink);
            Ip("link", "set", ns.HostLink, "up");
            ns.Inside("ip", "addr", "add", $"{ns.InnerAddress}/30", "dev", ns.InnerLink);
            ns.Inside("ip", "link", "set", ns.InnerLink, "up");
            ns.Inside("ip", "link", "set", "lo", "up");
            reason = "";
            return ns;
        }
        catch
        {
            ns.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Pins the namespace's MAC address in a permanent neighbour entry on the host side, so that ARP gives nothing away
    /// once the namespace falls silent. Done ahead of <see cref="BlackHole"/>, which then starts the fault at once.
    /// </summary>
    public void PinNeighbour()
    {
        var mac = Inside("cat", $"/sys/class/net/{InnerLink}/address").Trim();
        Ip("neigh", "replace", InnerAddress, "lladdr", mac, "dev", HostLink, "nud", "permanent");
    }

    /// <summary>
    /// Makes every packet to and from the namespace vanish without an RST or an error: all egress inside dropped (the
    /// fault starts there), then the inner address removed. Call <see cref="PinNeighbour"/> first.
    /// </summary>
    public void BlackHole()
    {
        Inside("tc", "qdisc", "add", "dev", InnerLink, "root", "pfifo", "limit", "0");
        Inside("ip", "addr", "del", $"{InnerAddress}/30", "dev", InnerLink);
    }

    public string Inside(params string[] command) => Ip(["netns", "exec", Name, .. command]);

    public void Dispose()
    {
        TryIp("netns", "del", Name);
        TryIp("link", "del", HostLink); // normally gone with its peer; a leftover is removed here
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
        {
            start.ArgumentList.Add(arg);
        }

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
