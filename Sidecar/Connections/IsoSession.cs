using System.Diagnostics;
using System.IO.Pipelines;
using System.Net;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using OrleansControl.Codec;

namespace OrleansControl.Sidecar.Connections;

/// <summary>
/// The channel: one live socket carrying framed ISO 8583 messages (jPOS "channel"). A read loop unframes and
/// unpacks with the codec and hands each message to <c>onMessage</c>; a write loop packs everything queued and
/// flushes once per batch, so pipelined requests share syscalls. It ends once, with a reason, when the peer
/// closes or resets, on an I/O error, or when its owner closes it; it never reconnects (that is the client's job).
/// </summary>
internal sealed class IsoSession : IAsyncDisposable
{
    private static long s_nextId;

    private readonly Stream _stream;
    private readonly IDisposable? _socketOwner;
    private readonly PipeReader _reader;
    private readonly PipeWriter _writer;
    private readonly IsoWire _wire;
    private readonly Func<IsoSession, IsoMessage, ValueTask> _onMessage;
    private readonly Action<IsoMessage, Iso8583Exception>? _onUnsendable;
    private readonly ILogger _logger;
    private readonly Channel<IsoMessage> _outbound = Channel.CreateUnbounded<IsoMessage>(
        new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = false });
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource<string> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _readLoop;
    private Task? _writeLoop;
    private long _lastReceived = Stopwatch.GetTimestamp();

    public IsoSession(Stream stream, IDisposable? socketOwner, EndPoint? remote, IsoWire wire,
        Func<IsoSession, IsoMessage, ValueTask> onMessage, ILogger logger, Action<IsoMessage, Iso8583Exception>? onUnsendable = null)
    {
        _onUnsendable = onUnsendable;
        Id = Interlocked.Increment(ref s_nextId);
        _stream = stream;
        _socketOwner = socketOwner;
        Remote = remote?.ToString() ?? "?";
        Local = IsoEndpoint.Normalize((socketOwner as System.Net.Sockets.Socket)?.LocalEndPoint);
        _wire = wire;
        _onMessage = onMessage;
        _logger = logger;
        _reader = PipeReader.Create(stream, new StreamPipeReaderOptions(minimumReadSize: 16 * 1024));
        _writer = PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 16 * 1024));
    }

    /// <summary>Process-unique, never 0 (0 marks a request not yet written anywhere).</summary>
    public long Id { get; }

    public string Remote { get; }

    /// <summary>This end of the session (host:port, normalised; null when not on a socket): what the peer sees as remote.</summary>
    public string? Local { get; }

    /// <summary>Completes with the reason the session ended.</summary>
    public Task<string> Closed => _closed.Task;

    public bool IsClosed => _closed.Task.IsCompleted;

    /// <summary>Time since the last message (or keep-alive) arrived.</summary>
    public TimeSpan IdleFor => Stopwatch.GetElapsedTime(Volatile.Read(ref _lastReceived));

    public void Start()
    {
        _readLoop = Task.Run(ReadLoopAsync);
        _writeLoop = Task.Run(WriteLoopAsync);
    }

    /// <summary>Queues a message for the write loop; false once the session is closing.</summary>
    public bool TrySend(IsoMessage message) => !IsClosed && _outbound.Writer.TryWrite(message);

    private async Task ReadLoopAsync()
    {
        var reason = "closed by peer";
        try
        {
            while (true)
            {
                var result = await _reader.ReadAsync(_stop.Token).ConfigureAwait(false);
                var buffer = result.Buffer;
                try
                {
                    while (_wire.TryReadFrame(ref buffer, out var frame))
                    {
                        Volatile.Write(ref _lastReceived, Stopwatch.GetTimestamp());
                        if (frame.IsEmpty)
                        {
                            continue; // keep-alive
                        }

                        IsoMessage message;
                        try
                        {
                            message = _wire.Unpack(frame);
                        }
                        catch (Iso8583Exception ex)
                        {
                            // The frame boundary is intact, so one bad message need not cost the link.
                            Log.UnreadableMessage(_logger, Id, ex.Message);
                            continue;
                        }

                        await _onMessage(this, message).ConfigureAwait(false);
                    }
                }
                finally
                {
                    _reader.AdvanceTo(buffer.Start, buffer.End);
                }

                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            reason = "closed locally";
        }
        catch (Iso8583Exception ex)
        {
            reason = $"framing error: {ex.Message}";
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            reason = $"connection lost: {(ex.InnerException ?? ex).Message}";
        }

        End(reason);
    }

    private async Task WriteLoopAsync()
    {
        var reader = _outbound.Reader;
        try
        {
            while (await reader.WaitToReadAsync(_stop.Token).ConfigureAwait(false))
            {
                while (reader.TryRead(out var message))
                {
                    try
                    {
                        _wire.WriteFrame(_writer, message);
                    }
                    catch (Iso8583Exception ex)
                    {
                        // Packing fails before anything is advanced, so the stream stays whole: refuse this
                        // message alone rather than the link and everything in flight on it.
                        Log.UnsendableMessage(_logger, Id, IsoWire.MtiOf(message), ex.Message);
                        _onUnsendable?.Invoke(message, ex);
                    }
                }

                var flush = await _writer.FlushAsync(_stop.Token).ConfigureAwait(false);
                if (flush.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or ObjectDisposedException or InvalidOperationException)
        {
            End($"connection lost on write: {(ex.InnerException ?? ex).Message}");
        }
    }

    /// <summary>Flushes what is queued (best effort, bounded by <paramref name="timeout"/>) and then closes.</summary>
    public async Task CloseAsync(TimeSpan timeout)
    {
        _outbound.Writer.TryComplete();
        if (_writeLoop is not null)
        {
            await Task.WhenAny(_writeLoop, Task.Delay(timeout)).ConfigureAwait(false);
        }

        End("closed locally");
    }

    /// <summary>Closes at once; with <paramref name="reset"/> the peer sees a TCP RST rather than a FIN.</summary>
    public void Abort(string reason, bool reset = false)
    {
        if (reset && _socketOwner is System.Net.Sockets.Socket socket)
        {
            try
            {
                socket.LingerState = new System.Net.Sockets.LingerOption(true, 0);
            }
            catch (ObjectDisposedException)
            {
            }
        }

        End(reason);
    }

    private void End(string reason)
    {
        if (!_closed.TrySetResult(reason))
        {
            return;
        }

        _outbound.Writer.TryComplete();
        _stop.Cancel();
        try
        {
            _stream.Dispose();
            _socketOwner?.Dispose();
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
        }

        Log.SessionEnded(_logger, Id, Remote, reason);
    }

    public async ValueTask DisposeAsync()
    {
        End("disposed");
        if (_readLoop is not null)
        {
            await _readLoop.ConfigureAwait(false);
        }

        if (_writeLoop is not null)
        {
            await _writeLoop.ConfigureAwait(false);
        }

        _stop.Dispose();
    }
}
