using System.Collections.Concurrent;
using System.Diagnostics;

namespace OrleansControl.Sidecar.Matching;

/// <summary>
/// The MUX: pending requests by match key, with a cap on how many may be in flight, a per-request deadline
/// enforced by one sweeper (cheaper than a timer per request at 100k/s), and refusal of a second request
/// with a key already in flight. It knows nothing of sockets; sessions register, complete and fail entries.
/// </summary>
internal sealed class RequestMatcher<TMessage> : IAsyncDisposable
    where TMessage : class
{
    private readonly ConcurrentDictionary<MatchKey, PendingRequest<TMessage>> _pending = new();
    private readonly int _maxInFlight;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sweeper;
    private int _count;

    public RequestMatcher(int maxInFlight, TimeSpan sweepInterval)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxInFlight, 1);
        _maxInFlight = maxInFlight;
        _sweeper = SweepAsync(sweepInterval, _stop.Token);
    }

    public int InFlight => Volatile.Read(ref _count);

    /// <summary>Called with each request that timed out (after it was failed), for health accounting.</summary>
    public Action<PendingRequest<TMessage>>? TimedOut { get; set; }

    /// <summary>Called with each request that ends in an error (once, by whoever removed it), for outcome accounting.</summary>
    public Action<PendingRequest<TMessage>, Exception>? Failed { get; set; }

    /// <summary>Where written requests that end without an answer (their fate unknown) are handed, if anywhere.</summary>
    public IUnknownFateSink<TMessage>? UnknownFate { get; set; }

    public PendingRequest<TMessage> Register(MatchKey key, TMessage request, TimeSpan timeout)
    {
        if (Interlocked.Increment(ref _count) > _maxInFlight)
        {
            Interlocked.Decrement(ref _count);
            throw new SidecarException(SidecarError.InFlightLimit, $"{_maxInFlight} requests already in flight; {key} refused");
        }

        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        var pending = new PendingRequest<TMessage>(key, request, deadline, timeout);
        if (!_pending.TryAdd(key, pending))
        {
            Interlocked.Decrement(ref _count);
            throw new SidecarException(SidecarError.DuplicateKey, $"a request with the same match key ({key}) is already in flight");
        }

        return pending;
    }

    /// <summary>Completes the request matching <paramref name="key"/>; false when none is pending (late or unsolicited).</summary>
    public bool TryComplete(MatchKey key, TMessage response)
    {
        if (!_pending.TryRemove(key, out var pending))
        {
            return false;
        }

        Interlocked.Decrement(ref _count);
        pending.TrySetResult(response);
        return true;
    }

    /// <summary>
    /// Ends one request with an error, if it is still pending. A written request whose fate is now unknown (timeout,
    /// session lost, cancelled after the write) is offered to <see cref="UnknownFate"/> first: reserved before it is
    /// removed, so a response racing the removal finds the reservation, and completed by the sink if it takes it over.
    /// </summary>
    public bool TryFail(PendingRequest<TMessage> pending, Exception error) => TryFail(pending, error, removed: null);

    /// <summary>As <see cref="TryFail(PendingRequest{TMessage}, Exception)"/>; <paramref name="removed"/> runs once the request is taken, before its caller sees the error.</summary>
    private bool TryFail(PendingRequest<TMessage> pending, Exception error, Action? removed)
    {
        var sink = pending.WasWritten && IsFateUnknown(error) ? UnknownFate : null;
        var reserved = sink?.Reserve(pending) == true;
        if (!_pending.TryRemove(new KeyValuePair<MatchKey, PendingRequest<TMessage>>(pending.Key, pending)))
        {
            if (reserved)
            {
                sink!.Release(pending);
            }

            return false;
        }

        Interlocked.Decrement(ref _count);
        removed?.Invoke();
        Failed?.Invoke(pending, error);
        if (!reserved || !sink!.TakeOver(pending, error))
        {
            Complete(pending, error);
        }

        return true;
    }

    /// <summary>Completes a removed request with <paramref name="error"/> (cancellation as cancellation).</summary>
    public static void Complete(PendingRequest<TMessage> pending, Exception error)
    {
        if (error is OperationCanceledException oce)
        {
            pending.TrySetCanceled(oce.CancellationToken);
        }
        else
        {
            pending.TrySetException(error);
        }
    }

    private static bool IsFateUnknown(Exception error) =>
        error is OperationCanceledException || error is SidecarException { Outcome: RequestOutcome.FateUnknown };

    /// <summary>Ends the pending request for exactly this message (by key and identity), if there is one.</summary>
    public bool TryFail(MatchKey key, TMessage request, Exception error) =>
        _pending.TryGetValue(key, out var pending) && ReferenceEquals(pending.Request, request) && TryFail(pending, error);

    /// <summary>
    /// Fails every pending request written to <paramref name="sessionId"/> (the session is gone); <paramref name="removed"/>
    /// runs for each before its caller sees the error, so counts are right by then.
    /// </summary>
    public int FailSession(long sessionId, SidecarError error, string message, Action? removed = null)
    {
        var failed = 0;
        foreach (var (_, pending) in _pending)
        {
            if (pending.SessionId == sessionId && TryFail(pending, new SidecarException(error, message), removed))
            {
                failed++;
            }
        }

        return failed;
    }

    /// <summary>Fails every pending request (the connection is closed for good); those no session took end as <see cref="SidecarError.NoLink"/>.</summary>
    public int FailAll(SidecarError error, string message)
    {
        var failed = 0;
        foreach (var (_, pending) in _pending)
        {
            var unwritten = pending.TryClaimUnwritten();
            if (TryFail(pending, new SidecarException(unwritten ? SidecarError.NoLink : error, unwritten ? $"{message} before it was sent" : message)))
            {
                failed++;
            }
        }

        return failed;
    }

    /// <summary>Requests accepted but not yet written to any session.</summary>
    public IEnumerable<PendingRequest<TMessage>> Queued()
    {
        foreach (var (_, pending) in _pending)
        {
            if (pending.SessionId == 0)
            {
                yield return pending;
            }
        }
    }

    /// <summary>Requests written to <paramref name="sessionId"/> and not yet answered.</summary>
    public int InFlightOn(long sessionId)
    {
        var n = 0;
        foreach (var (_, pending) in _pending)
        {
            if (pending.SessionId == sessionId)
            {
                n++;
            }
        }

        return n;
    }

    /// <summary>The latest deadline (Stopwatch timestamp) of the requests written to <paramref name="sessionId"/>; 0 if none.</summary>
    public long LatestDeadlineOn(long sessionId)
    {
        long latest = 0;
        foreach (var (_, pending) in _pending)
        {
            if (pending.SessionId == sessionId && pending.Deadline > latest)
            {
                latest = pending.Deadline;
            }
        }

        return latest;
    }

    private async Task SweepAsync(TimeSpan interval, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                var now = Stopwatch.GetTimestamp();
                foreach (var (_, pending) in _pending)
                {
                    if (pending.Deadline <= now && TryFail(pending, Expired(pending)))
                    {
                        TimedOut?.Invoke(pending);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>A request past its deadline: timed out if a session took it, else it never got a link.</summary>
    private static SidecarException Expired(PendingRequest<TMessage> pending) => pending.TryClaimUnwritten()
        ? new SidecarException(SidecarError.NoLink, $"no signed-on link took {pending.Key} within {pending.Timeout.TotalMilliseconds:F0} ms; it was not sent")
        : new SidecarException(SidecarError.Timeout, $"no response to {pending.Key} within {pending.Timeout.TotalMilliseconds:F0} ms");

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _sweeper.ConfigureAwait(false);
        _stop.Dispose();
    }
}
