using System.Net;
using System.Net.Sockets;

namespace OrleansControl.EndToEnd.Tests.Processes;

/// <summary>
/// Free high loopback ports, never one of the defaults other processes on the machine may hold, and below the kernel's
/// ephemeral range: a process that keeps dialling a killed process's port on loopback (a silo its dead peer) can
/// otherwise be handed that very port as its source port and connect to itself, and the restart finds it taken.
/// </summary>
internal static class LoopbackPorts
{
    private const int Lowest = 20000;
    private static readonly HashSet<int> Defaults = [8080, 8081, 8583, 9090, 11111, 30000];
    private static readonly HashSet<int> Handed = [];
    private static readonly Lock Gate = new();
    private static readonly int EphemeralStart = ReadEphemeralStart();

    public static int Next()
    {
        lock (Gate)
        {
            while (true)
            {
                // Handed out once per test run: a port a killed process held is only ever reused by its restart.
                var port = Random.Shared.Next(Lowest, EphemeralStart);
                if (!Defaults.Contains(port) && !Handed.Contains(port) && IsFree(port) && Handed.Add(port))
                {
                    return port;
                }
            }
        }
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int ReadEphemeralStart()
    {
        try
        {
            var range = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            return int.TryParse(range[0], out var start) && start > Lowest + 1000 ? start : 32768;
        }
        catch (IOException)
        {
            return 32768;
        }
    }
}
