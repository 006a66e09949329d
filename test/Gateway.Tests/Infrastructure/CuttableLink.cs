using System.Net;
using System.Net.Sockets;

namespace OrleansControl.Gateway.Tests.Infrastructure;

/// <summary>
/// A TCP forwarder between the regions that a test can cut (refuse and reset everything), black-hole (accept and
/// never answer: no RST, no FIN, nothing) and restore.
/// </summary>
internal sealed class CuttableLink : IAsyncDisposable
{
    private enum Mode { Forward, Refuse, BlackHole }

    private sealed record Pair(TcpClient Inbound, TcpClient Outbound, CancellationTokenSource Copying);

    private readonly int _target;
    private readonly Lock _gate = new();
    private readonly List<Pair> _open = [];
    private readonly List<TcpClient> _held = [];
    private TcpListener? _listener;
    private CancellationTokenSource? _accepting;
    private Mode _mode = Mode.Refuse;

    public CuttableLink(int targetPort)
    {
        _target = targetPort;
        Port = FreePort.Next();
        Restore();
    }

    public int Port { get; }

    /// <summary>Forward again. Connections held by a black hole are reset (as a peer that lost their state would).</summary>
    public void Restore()
    {
        lock (_gate)
        {
            _mode = Mode.Forward;
            foreach (var held in _held) Reset(held);
            _held.Clear();
        }
        StartListening();
    }

    /// <summary>Refuse new connections and reset the open ones, like a link that went away.</summary>
    public void Cut()
    {
        lock (_gate)
        {
            _mode = Mode.Refuse;
            foreach (var p in _open)
            {
                Reset(p.Inbound);
                Reset(p.Outbound);
            }
            _open.Clear();
            foreach (var held in _held) Reset(held);
            _held.Clear();
        }
        _accepting?.Cancel();
        _listener?.Stop();
        _listener = null;
    }

    /// <summary>
    /// Keep accepting but never answer: open connections go silent (their far side is dropped, the caller's side
    /// stays open and unanswered), new ones are accepted and held. Callers learn only from their own deadlines.
    /// </summary>
    public void BlackHole()
    {
        lock (_gate)
        {
            _mode = Mode.BlackHole;
            foreach (var p in _open)
            {
                p.Copying.Cancel();
                _held.Add(p.Inbound);
                Reset(p.Outbound);
            }
            _open.Clear();
        }
        StartListening();
    }

    private void StartListening()
    {
        if (_listener is not null) return;
        _accepting = new CancellationTokenSource();
        _listener = new TcpListener(IPAddress.Loopback, Port);
        _listener.Start();
        var listener = _listener;
        var ct = _accepting.Token;
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
                lock (_gate)
                {
                    if (_mode == Mode.BlackHole)
                    {
                        _held.Add(inbound);
                        continue;
                    }
                }
                _ = Task.Run(() => ForwardAsync(inbound), CancellationToken.None);
            }
        }, ct);
    }

    private async Task ForwardAsync(TcpClient inbound)
    {
        var outbound = new TcpClient();
        var copying = new CancellationTokenSource();
        var pair = new Pair(inbound, outbound, copying);
        try
        {
            await outbound.ConnectAsync(IPAddress.Loopback, _target);
            lock (_gate)
            {
                if (_mode != Mode.Forward)
                {
                    Reset(inbound);
                    Reset(outbound);
                    return;
                }
                _open.Add(pair);
            }
            var a = inbound.GetStream().CopyToAsync(outbound.GetStream(), copying.Token);
            var b = outbound.GetStream().CopyToAsync(inbound.GetStream(), copying.Token);
            await Task.WhenAny(a, b);
        }
        catch (Exception)
        {
            // Cut or closed.
        }
        finally
        {
            lock (_gate)
            {
                _open.Remove(pair);
                // A black hole keeps the caller's side open (and silent); otherwise both sides go.
                if (!_held.Contains(inbound)) inbound.Dispose();
            }
            outbound.Dispose();
        }
    }

    private static void Reset(TcpClient c)
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

    public ValueTask DisposeAsync()
    {
        Cut();
        return ValueTask.CompletedTask;
    }
}
