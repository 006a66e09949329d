using System.Net;
using System.Net.Sockets;

namespace OrleansControl.Demo.Regions;

/// <summary>
/// A TCP forwarder on a loopback port standing for the link between the regions: each region's gateway reaches its
/// peer through one. <see cref="Cut"/> stops listening and resets every open connection (a dropped link);
/// <see cref="Restore"/> listens again on the same port. A copy of test/Gateway.Tests/Infrastructure/CuttableLink.cs.
/// </summary>
internal sealed class CuttableLink : IDisposable
{
    private readonly int _target;
    private readonly List<TcpClient> _open = [];
    private readonly Lock _gate = new();
    private TcpListener? _listener;
    private CancellationTokenSource? _cts;

    public CuttableLink(int targetPort)
    {
        _target = targetPort;
        Port = Processes.LoopbackPorts.Next();
        Restore();
    }

    public int Port { get; }

    public bool IsCut { get; private set; }

    public void Restore()
    {
        _cts = new CancellationTokenSource();
        _listener = new TcpListener(IPAddress.Loopback, Port);
        _listener.Start();
        IsCut = false;
        var listener = _listener;
        var ct = _cts.Token;
        _ = Task.Run(async () =>
        {
            while (!ct.IsCancellationRequested)
            {
                TcpClient inbound;
                try
                {
                    inbound = await listener.AcceptTcpClientAsync(ct);
                }
                catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
                {
                    return;
                }

                _ = Task.Run(() => ForwardAsync(inbound, ct), ct);
            }
        }, ct);
    }

    public void Cut()
    {
        IsCut = true;
        _cts?.Cancel();
        _listener?.Stop();
        lock (_gate)
        {
            foreach (var c in _open)
            {
                try
                {
                    if (c.Client is { } socket)
                    {
                        socket.LingerState = new LingerOption(true, 0); // RST, like a dropped link
                    }

                    c.Close();
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    // Already gone.
                }
            }

            _open.Clear();
        }
    }

    public void Dispose()
    {
        Cut();
        _cts?.Dispose();
    }

    private async Task ForwardAsync(TcpClient inbound, CancellationToken ct)
    {
        using var outbound = new TcpClient();
        try
        {
            await outbound.ConnectAsync(IPAddress.Loopback, _target, ct);
            lock (_gate)
            {
                _open.Add(inbound);
                _open.Add(outbound);
            }

            var a = inbound.GetStream().CopyToAsync(outbound.GetStream(), ct);
            var b = outbound.GetStream().CopyToAsync(inbound.GetStream(), ct);
            await Task.WhenAny(a, b);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
        {
            // Cut or closed.
        }
        finally
        {
            lock (_gate)
            {
                _open.Remove(inbound);
                _open.Remove(outbound);
            }

            inbound.Dispose();
        }
    }
}
