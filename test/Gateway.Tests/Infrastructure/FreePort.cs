using System.Net;
using System.Net.Sockets;

namespace OrleansControl.Gateway.Tests.Infrastructure;

/// <summary>
/// A loopback port nobody listens on, never handed out twice in this process. Taken below Linux's ephemeral range
/// (32768-60999): a port the kernel gave us with bind(0) is one it may give the next outgoing connection as its
/// source port before our listener binds it ("address already in use" under load).
/// </summary>
internal static class FreePort
{
    private const int First = 20_000;
    private const int Last = 32_000;
    private static readonly HashSet<int> Given = [];
    private static int _next = First + Random.Shared.Next(Last - First);

    public static int Next()
    {
        lock (Given)
        {
            for (var tries = 0; tries < Last - First; tries++)
            {
                var port = _next;
                _next = _next >= Last ? First : _next + 1;
                if (!Given.Add(port)) continue;
                try
                {
                    using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                    probe.Bind(new IPEndPoint(IPAddress.Loopback, port));
                    return port;
                }
                catch (SocketException)
                {
                    // Someone else's.
                }
            }
        }
        throw new InvalidOperationException($"no free loopback port in {First}..{Last}");
    }
}
