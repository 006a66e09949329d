namespace OrleansControl.Demo.Network;

/// <summary>
/// A network namespace for one scheme server, joined to the host by a veth pair on a private /30 (host end .1, server
/// end .2), so the demo can black-hole that server the way a dead host or a cut cable does: the server's kernel
/// stops answering altogether (no RST, no ACK), the client's kernel keeps retransmitting. The recipe is the one in
/// NOTES.md: drop all egress inside the namespace (<c>tc qdisc … pfifo limit 0</c>), remove the server's address, and
/// pin the host's neighbour entry so ARP does not give it away. Routes only between its own veth ends.
/// </summary>
internal sealed class NetworkNamespace : IDisposable
{
    private const string Prefix = "10.213";
    private bool _blackHoled;

    private NetworkNamespace(string name, string hostInterface, string innerInterface, int subnet)
    {
        Name = name;
        HostInterface = hostInterface;
        InnerInterface = innerInterface;
        HostAddress = $"{Prefix}.{subnet}.1";
        InnerAddress = $"{Prefix}.{subnet}.2";
    }

    public string Name { get; }

    public string HostInterface { get; }

    public string InnerInterface { get; }

    public string HostAddress { get; }

    /// <summary>Where the server in the namespace is reached from the host.</summary>
    public string InnerAddress { get; }

    /// <summary>Whether this process may create namespaces (root, or CAP_NET_ADMIN); the reason when not.</summary>
    public static bool CanCreate(out string reason)
    {
        var probe = $"ocdemo-{Environment.ProcessId}-probe";
        var (code, _, error) = Shell.TryRun("ip", "netns", "add", probe);
        if (code != 0)
        {
            reason = string.IsNullOrWhiteSpace(error) ? $"ip netns add exited {code}" : error.Trim();
            return false;
        }

        Delete(probe);
        var (tc, _, tcError) = Shell.TryRun("tc", "-V");
        reason = tc == 0 ? "" : $"tc is not available: {tcError.Trim()}";
        return tc == 0;
    }

    /// <summary>Creates the namespace <c>ocdemo-{pid}-{tag}</c> with its veth pair, on the first free 10.213.N.0/30.</summary>
    public static NetworkNamespace Create(string tag)
    {
        var id = $"{Environment.ProcessId % 100_000}{tag}";
        var ns = new NetworkNamespace($"ocdemo-{Environment.ProcessId}-{tag}", $"ocdh{id}", $"ocdn{id}", FreeSubnet());
        Processes.RunRecord.AddNamespace(ns.Name);
        try
        {
            Shell.Run("ip", "netns", "add", ns.Name);
            Shell.Run("ip", "link", "add", ns.HostInterface, "type", "veth", "peer", "name", ns.InnerInterface);
            Shell.Run("ip", "link", "set", ns.InnerInterface, "netns", ns.Name);
            Shell.Run("ip", "addr", "add", $"{ns.HostAddress}/30", "dev", ns.HostInterface);
            Shell.Run("ip", "link", "set", ns.HostInterface, "up");
            ns.Inside("ip", "addr", "add", $"{ns.InnerAddress}/30", "dev", ns.InnerInterface);
            ns.Inside("ip", "link", "set", ns.InnerInterface, "up");
            ns.Inside("ip", "link", "set", "lo", "up");
            return ns;
        }
        catch
        {
            ns.Dispose();
            throw;
        }
    }

    public static bool Exists(string name) =>
        Shell.TryRun("ip", "netns", "list").Output.Split('\n').Any(l => l.Split(' ')[0] == name);

    public static void Delete(string name) => Shell.TryRun("ip", "netns", "del", name);

    /// <summary>Everything the server sends is dropped and its address is gone: it is unreachable, and nothing says so.</summary>
    public void BlackHole()
    {
        var mac = Inside("cat", $"/sys/class/net/{InnerInterface}/address").Trim();
        Shell.Run("ip", "neigh", "replace", InnerAddress, "lladdr", mac, "dev", HostInterface, "nud", "permanent");
        Inside("tc", "qdisc", "add", "dev", InnerInterface, "root", "pfifo", "limit", "0");
        Inside("ip", "addr", "del", $"{InnerAddress}/30", "dev", InnerInterface);
        _blackHoled = true;
    }

    public void Restore()
    {
        if (!_blackHoled)
        {
            return;
        }

        Inside("tc", "qdisc", "del", "dev", InnerInterface, "root");
        Inside("ip", "addr", "add", $"{InnerAddress}/30", "dev", InnerInterface);
        Shell.TryRun("ip", "neigh", "del", InnerAddress, "dev", HostInterface);
        _blackHoled = false;
    }

    /// <summary>Deleting the namespace deletes its veth end, and with it the host end.</summary>
    public void Dispose()
    {
        Delete(Name);
        Shell.TryRun("ip", "link", "del", HostInterface);
    }

    private string Inside(string command, params string[] args) => Shell.Run("ip", ["netns", "exec", Name, command, .. args]);

    private static int FreeSubnet()
    {
        var used = Shell.TryRun("ip", "-br", "addr").Output;
        var start = 20 + (Environment.ProcessId % 200);
        for (var i = 0; i < 230; i++)
        {
            var subnet = 20 + ((start - 20 + i) % 230);
            if (!used.Contains($"{Prefix}.{subnet}.", StringComparison.Ordinal) && !Claimed.Contains(subnet))
            {
                Claimed.Add(subnet);
                return subnet;
            }
        }

        throw new DemoException($"no free {Prefix}.N.0/30 subnet for a network namespace");
    }

    private static readonly HashSet<int> Claimed = [];
}
