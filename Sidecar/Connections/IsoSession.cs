using System.Diagnostics;
using System.IO.Pipelines;
using System.Net;
using Microsoft.Extensions.Logging;
using OrleansControl.Codec;

namespace OrleansControl.Sidecar.Connections;

/// <summary>
/// The channel: one live socket carrying framed ISO 8583 messages (jPOS "channel"). A read loop unframes and
/// unpacks with the codec and hands each message to <c>onMessage</c>. Sends are queued in order and one
/// writer at a time packs everything queued and flushes once per batch, so pipelined requests share syscalls.
/// There is no writer task to hop to: answers produced while the read loop handles one read are written by the
/// read loop when it is done with that read (one flush for all of them), a send on an otherwise idle link is
/// written by its sender at once, and other sends by one thread-pool item that takes whatever has piled up.
/// It ends once, with a reason, when the peer closes or resets, on an I/O error, or when its owner closes it;
/// it never reconnects (that is the client's job).
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
    private readonly Lock _sendLock = new();
    private List<IsoMessage> _queue = new(16);
    private List<IsoMessage> _batch = new(16);
    private bool _writing;      // one thread owns _writer and is draining _queue
    private bool _corked;       // the read loop is handling a read and drains _queue when done with it
    private bool _sendClosed;   // no more sends accepted
    private TaskCompletionSource? _drained;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource<string> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _readLoop;
    private long _lastReceived = Stopwatch.GetTimestamp();

    public IsoSession(Stream stream, IDisposable? socketOwner, EndPoint? remote, IsoWire wire,
        Func<IsoSession, IsoMessage, ValueTask> onMessage, ILogger logger, Action<IsoMessage, Iso8583Exception>? onUnsendable = null)
    {
        _onUnsendable = onUnsendable;
        Id = Interlocked.Increment(ref s_nextId);
        _stream = stream;
        _socketOwner = socketOwner;
        Remote = remote?.ToString() ?? "?";
        _wire = wire;
        _onMessage = onMessage;
        _logger = logger;
        _reader = PipeReader.Create(stream, new StreamPipeReaderOptions(minimumReadSize: 16 * 1024));
        _writer = PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 16 * 1024));
    }

    /// <summary>Process-unique, never 0 (0 marks a request not yet written anywhere).</summary>
    public long Id { get; }

    public string Remote { get; }

    /// <summary>Completes with the reason the session ended.</summary>
    public Task<string> Closed => _closed.Task;

    public bool IsClosed => _closed.Task.IsCompleted;

    /// <summary>Time since the last message (or keep-alive) arrived.</summary>
    public TimeSpan IdleFor => Stopwatch.GetElapsedTime(Volatile.Read(ref _lastReceived));

    public void Start()
    {
        _readLoop = Task.Run(ReadLoopAsync);
    }

    /// <summary>
    /// Queues a message, in order; false once the session is closing. Never throws for I/O: a write error ends
    /// the session (and with it every request written to it). Unless another thread is writing or the read
    /// loop will flush it with the answers of its current read, the message is written either at once on this
    /// thread (<paramref name="writeNow"/>: the lowest latency, for a link with nothing else in flight) or by a
    /// thread-pool item, which lets the sends of a busy link pile up behind it and go out in one syscall.
    /// </summary>
    public bool TrySend(IsoMessage message, bool writeNow = false)
    {
        lock (_sendLock)
        {
            if (_sendClosed)
            {
                return false;
            }

            _queue.Add(message);
            if (_writing || _corked)
            {
                return true;
            }

            _writing = true;
        }

        if (writeNow)
        {
            _ = DrainAsync();
        }
        else
        {
            ThreadPool.UnsafeQueueUserWorkItem(static session => _ = session.DrainAsync(), this, preferLocal: false);
        }

        return true;
    }

    private void Cork()
    {
        lock (_sendLock)
        {
            _corked = true;
        }
    }

    private void Uncork()
    {
        lock (_sendLock)
        {
            _corked = false;
            if (_writing || _queue.Count == 0)
            {
                return;
            }

            _writing = true;
        }

        _ = DrainAsync();
    }

    private async Task ReadLoopAsync()
    {
        var reason = "closed by peer";
        try
        {
            while (true)
            {
                var result = await _reader.ReadAsync(_stop.Token).ConfigureAwait(false);
                var buffer = result.Buffer;
                Cork();
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

                        var handled = _onMessage(this, message);
                        if (!handled.IsCompletedSuccessfully)
                        {
                            Uncork(); // answers must not wait on a slow handler
                            await handled.ConfigureAwait(false);
                            Cork();
                        }
                    }
                }
                finally
                {
                    _reader.AdvanceTo(buffer.Start, buffer.End);
                    Uncork();
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

    /// <summary>
    /// Run by the one thread that owns the writer (<see cref="_writing"/>): packs and flushes what is queued
    /// until the queue is empty. Runs synchronously on the sender's thread while the socket takes the bytes at
    /// once; only a flush that has to wait continues asynchronously.
    /// </summary>
    private async Task DrainAsync()
    {
        try
        {
            while (true)
            {
                List<IsoMessage> batch;
                lock (_sendLock)
                {
                    if (_queue.Count == 0)
                    {
                        _writing = false;
                        _drained?.TrySetResult();
                        return;
                    }

                    batch = _queue;
                    _queue = _batch;
                    _batch = batch;
                }

                foreach (var message in batch)
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

                batch.Clear();
                var pending = _writer.FlushAsync(_stop.Token);
                var flush = pending.IsCompletedSuccessfully ? pending.Result : await pending.ConfigureAwait(false);
                if (flush.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            // Any failure to write ends the session, so what was written to it is failed rather than stranded.
            End($"connection lost on write: {(ex.InnerException ?? ex).Message}");
        }

        // Stopped: the session is over, nothing queued will be written.
        lock (_sendLock)
        {
            _sendClosed = true;
            _queue.Clear();
            _writing = false;
            _drained?.TrySetResult();
        }
    }

    /// <summary>Flushes what is queued (best effort, bounded by <paramref name="timeout"/>) and then closes.</summary>
    public async Task CloseAsync(TimeSpan timeout)
    {
        Task drained;
        lock (_sendLock)
        {
            _sendClosed = true;
            drained = _writing || _queue.Count > 0
                ? (_drained ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task
                : Task.CompletedTask;
        }

        await Task.WhenAny(drained, Task.Delay(timeout)).ConfigureAwait(false);
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

        lock (_sendLock)
        {
            _sendClosed = true;
            _queue.Clear();
        }

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

        Task? writing = null;
        lock (_sendLock)
        {
            if (_writing)
            {
                writing = (_drained ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }
        }

        if (writing is not null)
        {
            await writing.ConfigureAwait(false);
        }

        _stop.Dispose();
    }
}
