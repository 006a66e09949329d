using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace OrleansControl.Demo.Processes;

/// <summary>
/// Free high loopback ports, never one of the defaults other processes on the machine may hold. Same design as
/// test/EndToEnd.Tests/Processes/LoopbackPorts.cs (a copy: the demo does not depend on a test project).
/// </summary>
internal static class LoopbackPorts
{
    private static readonly HashSet<int> Defaults = [8080, 8081, 8583, 9090, 11111, 30000];
    private static readonly HashSet<int> Handed = [];
    private static readonly Lock Gate = new();

    /// <summary>Every port handed out in this run (the demo checks at the end that none is still listening).</summary>
    public static IReadOnlyCollection<int> All
    {
        get
        {
            lock (Gate)
            {
                return [.. Handed];
            }
        }
    }

    public static int Next()
    {
        lock (Gate)
        {
            while (true)
            {
                using var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                var port = ((IPEndPoint)listener.LocalEndpoint).Port;
                // Handed out once per run: a port a killed process held is only ever reused by its restart.
                if (port >= 20000 && !Defaults.Contains(port) && Handed.Add(port))
                {
                    return port;
                }
            }
        }
    }

    /// <summary>Which of <paramref name="ports"/> something on this host (this network namespace) still listens on.</summary>
    public static IReadOnlyList<int> Listening(IEnumerable<int> ports)
    {
        var listening = IPGlobalProperties.GetIPGlobalProperties().GetActiveTcpListeners().Select(e => e.Port).ToHashSet();
        return [.. ports.Where(listening.Contains).Order()];
    }
}
