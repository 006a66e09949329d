using System.Net;
using System.Net.Sockets;

namespace OrleansControl.Gateway.Tests.Infrastructure;

/// <summary>A TCP forwarder between the regions that a test can cut (refuse and reset everything) and restore.</summary>
internal sealed class CuttableLink : IAsyncDisposable
{
    private readonly int _target;
    private readonly List<TcpClient> _open = [];
    private readonly Lock _gate = new();
    private TcpListener? _listener;
    private CancellationTokenSource? _cts;

    public CuttableLink(int targetPort)
    {
        _target = targetPort;
        Port = FreePort.Next();
        Restore();
    }

    public int Port { get; }

    public void Restore()
    {
        _cts = new CancellationTokenSource();
        _listener = new TcpListener(IPAddress.Loopback, Port);
        _listener.Start();
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
                catch (Exception)
                {
                    return;
                }
                _ = Task.Run(() => ForwardAsync(inbound, ct), ct);
            }
        }, ct);
    }

    public void Cut()
    {
        _cts?.Cancel();
        _listener?.Stop();
        lock (_gate)
        {
            foreach (var c in _open)
            {
                try
                {
                    c.Client.LingerState = new LingerOption(true, 0); // RST, like a dropped link
                    c.Close();
                }
                catch (Exception)
                {
                    // Already gone.
                }
            }
            _open.Clear();
        }
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
        catch (Exception)
        {
            // Cut or closed.
        }
        finally
        {
            inbound.Dispose();
        }
    }

    public ValueTask DisposeAsync()
    {
        Cut();
        return ValueTask.CompletedTask;
    }
}
