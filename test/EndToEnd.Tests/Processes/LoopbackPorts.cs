using System.Net;
using System.Net.Sockets;

namespace OrleansControl.EndToEnd.Tests.Processes;

/// <summary>Free high loopback ports, never one of the defaults other processes on the machine may hold.</summary>
internal static class LoopbackPorts
{
    private static readonly HashSet<int> Defaults = [8080, 8081, 8583, 9090, 11111, 30000];
    private static readonly HashSet<int> Handed = [];
    private static readonly Lock Gate = new();

    public static int Next()
    {
        lock (Gate)
        {
            while (true)
            {
                using var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                var port = ((IPEndPoint)listener.LocalEndpoint).Port;
                // Handed out once per test run: a port a killed process held is only ever reused by its restart.
                if (port >= 20000 && !Defaults.Contains(port) && Handed.Add(port))
                {
                    return port;
                }
            }
        }
    }
}
