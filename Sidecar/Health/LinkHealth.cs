using System.Diagnostics;

namespace OrleansControl.Sidecar.Health;

/// <summary>What the agent sends in each heartbeat: state, a 0–100 score and the numbers behind it.</summary>
public sealed record LinkHealthSnapshot(
    ConnectionState State,
    int Score,
    string? Endpoint,
    double LastEchoRttMs,
    double AverageEchoRttMs,
    long EchoesSent,
    long EchoTimeouts,
    long EchoFailures,
    int ConsecutiveEchoMisses,
    long RequestsSent,
    long ResponsesMatched,
    long RequestTimeouts,
    long RequestsLost,
    long UnmatchedResponses,
    int InFlight,
    long Reconnects,
    DateTimeOffset? SignedOnSince);

/// <summary>
/// Counters for one client connection, and the score derived from them. Thread-safe; the score decides
/// Degraded, so "where is degraded decided?" is answered here.
/// </summary>
/// <remarks>
/// Score: 0 unless signed on. From 100: −35 per consecutive missed echo, up to −30 for echo RTT above
/// <see cref="SlowEchoRtt"/> (linear to 4× it), and up to −40 for the share of recent requests that timed
/// out (timeouts / (timeouts + matched responses) over the last window). Below 70 is Degraded.
/// </remarks>
public sealed class LinkHealth
{
    public const int DegradedBelow = 70;

    private readonly Lock _lock = new();
    private double _lastRtt;
    private double _avgRtt;
    private long _echoesSent, _echoTimeouts, _echoFailures, _requestsSent, _matched, _timeouts, _lost, _unmatched, _reconnects;
    private int _consecutiveMisses;

    // Recent-window request outcomes, halved every window so old trouble fades.
    private long _windowMatched, _windowTimeouts;
    private long _windowStart = Stopwatch.GetTimestamp();

    public TimeSpan SlowEchoRtt { get; init; } = TimeSpan.FromMilliseconds(250);

    public TimeSpan Window { get; init; } = TimeSpan.FromSeconds(30);

    public int ConsecutiveEchoMisses => Volatile.Read(ref _consecutiveMisses);

    public void EchoSent() => Interlocked.Increment(ref _echoesSent);

    public void EchoAnswered(TimeSpan rtt)
    {
        lock (_lock)
        {
            _lastRtt = rtt.TotalMilliseconds;
            _avgRtt = _avgRtt == 0 ? _lastRtt : (_avgRtt * 0.8) + (_lastRtt * 0.2);
            _consecutiveMisses = 0;
        }
    }

    public void EchoTimedOut()
    {
        Interlocked.Increment(ref _echoTimeouts);
        Interlocked.Increment(ref _consecutiveMisses);
    }

    /// <summary>An echo answered with a non-approval response code, or not sendable.</summary>
    public void EchoFailed()
    {
        Interlocked.Increment(ref _echoFailures);
        Interlocked.Increment(ref _consecutiveMisses);
    }

    public void RequestSent() => Interlocked.Increment(ref _requestsSent);

    public void ResponseMatched()
    {
        Interlocked.Increment(ref _matched);
        Interlocked.Increment(ref _windowMatched);
    }

    public void RequestTimedOut()
    {
        Interlocked.Increment(ref _timeouts);
        Interlocked.Increment(ref _windowTimeouts);
    }

    public void RequestLost() => Interlocked.Increment(ref _lost);

    public void UnmatchedResponse() => Interlocked.Increment(ref _unmatched);

    public void Reconnected() => Interlocked.Increment(ref _reconnects);

    /// <summary>A fresh session starts with a clean echo record (its predecessor's misses are history).</summary>
    public void SessionStarted() => Volatile.Write(ref _consecutiveMisses, 0);

    public int Score(ConnectionState state)
    {
        if (state is not (ConnectionState.SignedOn or ConnectionState.Degraded or ConnectionState.Draining))
        {
            return 0;
        }

        double score = 100;
        score -= 35 * Math.Min(ConsecutiveEchoMisses, 3);
        double rtt;
        lock (_lock)
        {
            rtt = _avgRtt;
        }

        var slow = SlowEchoRtt.TotalMilliseconds;
        if (rtt > slow)
        {
            score -= 30 * Math.Min(1, (rtt - slow) / (3 * slow));
        }

        AgeWindow();
        var matched = Volatile.Read(ref _windowMatched);
        var timeouts = Volatile.Read(ref _windowTimeouts);
        if (timeouts > 0)
        {
            score -= 40.0 * timeouts / (timeouts + matched);
        }

        return (int)Math.Clamp(Math.Round(score), 0, 100);
    }

    public LinkHealthSnapshot Snapshot(ConnectionState state, string? endpoint, int inFlight, DateTimeOffset? signedOnSince)
    {
        double last, avg;
        lock (_lock)
        {
            last = _lastRtt;
            avg = _avgRtt;
        }

        return new LinkHealthSnapshot(
            state, Score(state), endpoint, last, avg,
            Interlocked.Read(ref _echoesSent), Interlocked.Read(ref _echoTimeouts), Interlocked.Read(ref _echoFailures),
            ConsecutiveEchoMisses, Interlocked.Read(ref _requestsSent), Interlocked.Read(ref _matched),
            Interlocked.Read(ref _timeouts), Interlocked.Read(ref _lost), Interlocked.Read(ref _unmatched),
            inFlight, Interlocked.Read(ref _reconnects), signedOnSince);
    }

    private void AgeWindow()
    {
        var start = Volatile.Read(ref _windowStart);
        if (Stopwatch.GetElapsedTime(start) < Window || Interlocked.CompareExchange(ref _windowStart, Stopwatch.GetTimestamp(), start) != start)
        {
            return;
        }

        Volatile.Write(ref _windowMatched, Volatile.Read(ref _windowMatched) / 2);
        Volatile.Write(ref _windowTimeouts, Volatile.Read(ref _windowTimeouts) / 2);
    }
}
