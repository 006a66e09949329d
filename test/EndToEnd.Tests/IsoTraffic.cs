using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Sockets;
using OrleansControl.Codec;

namespace OrleansControl.EndToEnd.Tests;

/// <summary>How one 0200 ended, seen by the bank's application.</summary>
internal enum Outcome { Approved, Declined, NoAnswer }

/// <summary>One 0200: when it was sent, how it ended, its response code (field 39) and the server that answered (field 44).</summary>
internal sealed record Authorization(DateTimeOffset SentAt, Outcome Outcome, string? ResponseCode, string? ServerId)
{
    public override string ToString() => $"{SentAt:HH:mm:ss.fff} {Outcome} {ResponseCode ?? "-"} by {ServerId ?? "-"}";
}

/// <summary>
/// The bank's application: a plain TCP client on the sidecar's relay port, sending 0200s (binary2 framing, the
/// 1987 ASCII spec) and matching 0210s by STAN. Counts approved, declined (any other field 39, e.g. the relay's 91 or 68 when
/// the link cannot deliver) and no answer (nothing within the timeout).
/// </summary>
internal sealed class IsoTraffic(int relayPort) : IAsyncDisposable
{
    private static readonly MessageSpec Spec = MessageSpec.BuiltIn("iso8583-1987-ascii");
    private static readonly LengthPrefixFraming Framing = LengthPrefixFraming.Parse("binary2");
    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(4);
    private readonly ConcurrentDictionary<string, TaskCompletionSource<IsoMessage>> _pending = new();
    private readonly ConcurrentQueue<Authorization> _history = new();
    private readonly SemaphoreSlim _connect = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private TcpClient? _tcp;
    private NetworkStream? _stream;
    private Task? _steady;
    private int _stan;

    public IReadOnlyList<Authorization> History => [.. _history];

    public int Count(Outcome outcome) => _history.Count(a => a.Outcome == outcome);

    public string Summary() =>
        $"approved {Count(Outcome.Approved)}, declined {Count(Outcome.Declined)}, no answer {Count(Outcome.NoAnswer)}; last: {string.Join(", ", _history.TakeLast(8))}";

    /// <summary>Sends one 0200 and waits for its answer (at most a few seconds).</summary>
    public async Task<Authorization> AuthorizeAsync()
    {
        var stan = (Interlocked.Increment(ref _stan) % 999_999 + 1).ToString("D6", CultureInfo.InvariantCulture);
        var now = DateTimeOffset.UtcNow;
        var request = Spec.CreateMessage(200)
            .Set(2, "4761739001010119").Set(3, "000000").Set(4, 1000L)
            .Set(7, now.ToString("MMddHHmmss", CultureInfo.InvariantCulture))
            .Set(11, stan).Set(41, "TERM0001").Set(49, "978");
        var answer = new TaskCompletionSource<IsoMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[stan] = answer;
        Authorization result;
        try
        {
            var stream = await ConnectedAsync();
            var frame = new ArrayBufferWriter<byte>();
            Framing.WriteMessage(frame, Spec, request);
            await stream.WriteAsync(frame.WrittenMemory, _stop.Token);
            var response = await answer.Task.WaitAsync(AnswerTimeout, _stop.Token);
            var code = response.GetString(39);
            result = new Authorization(now, code == "00" ? Outcome.Approved : Outcome.Declined, code, response.GetString(44));
        }
        catch (TimeoutException)
        {
            result = new Authorization(now, Outcome.NoAnswer, null, null);
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            Drop(e);
            result = new Authorization(now, Outcome.NoAnswer, null, null);
        }
        finally
        {
            _pending.TryRemove(stan, out _);
        }

        _history.Enqueue(result);
        return result;
    }

    /// <summary>Sends one 0200 after another (one every <paramref name="gap"/>) in the background until disposed.</summary>
    public void StartSteady(TimeSpan gap) => _steady ??= Task.Run(async () =>
    {
        while (!_stop.IsCancellationRequested)
        {
            await AuthorizeAsync();
            await Task.Delay(gap, _stop.Token).ConfigureAwait(false);
        }
    });

    /// <summary>Authorizations sent at or after <paramref name="since"/>.</summary>
    public IReadOnlyList<Authorization> Since(DateTimeOffset since) => [.. _history.Where(a => a.SentAt >= since)];

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_steady is not null)
        {
            try
            {
                await _steady;
            }
            catch (OperationCanceledException)
            {
            }
        }

        Drop(null);
        _stop.Dispose();
    }

    private async Task<NetworkStream> ConnectedAsync()
    {
        await _connect.WaitAsync(_stop.Token);
        try
        {
            if (_stream is { } open)
            {
                return open;
            }

            var tcp = new TcpClient { NoDelay = true };
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            timeout.CancelAfter(AnswerTimeout);
            try
            {
                await tcp.ConnectAsync("127.0.0.1", relayPort, timeout.Token);
            }
            catch (OperationCanceledException) when (!_stop.IsCancellationRequested)
            {
                tcp.Dispose();
                throw new TimeoutException($"relay port {relayPort} did not accept a connection");
            }
            catch
            {
                tcp.Dispose();
                throw;
            }

            _tcp = tcp;
            _stream = tcp.GetStream();
            _ = ReadLoopAsync(_stream);
            return _stream;
        }
        finally
        {
            _connect.Release();
        }
    }

    private async Task ReadLoopAsync(NetworkStream stream)
    {
        var header = new byte[2];
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                await stream.ReadExactlyAsync(header, _stop.Token);
                var length = (header[0] << 8) | header[1];
                if (length == 0)
                {
                    continue; // keep-alive
                }

                var payload = new byte[length];
                await stream.ReadExactlyAsync(payload, _stop.Token);
                var message = Spec.Unpack(payload);
                if (message.GetString(11) is { } stan && _pending.TryGetValue(stan, out var waiting))
                {
                    waiting.TrySetResult(message);
                }
            }
        }
        catch (Exception e) when (e is IOException or EndOfStreamException or OperationCanceledException or ObjectDisposedException or Iso8583Exception)
        {
            if (ReferenceEquals(_stream, stream))
            {
                Drop(e);
            }
        }
    }

    /// <summary>Forgets the socket (the next request connects again) and fails what waits on it.</summary>
    private void Drop(Exception? why)
    {
        var tcp = Interlocked.Exchange(ref _tcp, null);
        _stream = null;
        tcp?.Dispose();
        if (why is not null)
        {
            foreach (var waiting in _pending.Values)
            {
                waiting.TrySetException(new IOException("relay connection lost", why));
            }
        }
    }
}
