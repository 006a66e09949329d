using System.Net;
using System.Net.Sockets;

namespace OrleansControl.Benchmarks.Failover;

/// <summary>Free high ports for the silo tools, each handed out once per run.</summary>
internal static class BenchPorts
{
    private static readonly HashSet<int> Handed = [];

    /// <summary>A free high port, each handed out once per run (a killed silo's ports are never reused by the next trial).</summary>
    public static int FreePort()
    {
        lock (Handed)
        {
            while (true)
            {
                using var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                var port = ((IPEndPoint)listener.LocalEndpoint).Port;
                if (port >= 20000 && port is not (30000 or 11111) && Handed.Add(port))
                    return port;
            }
        }
    }
}
