namespace OrleansControl.Gateway.Regions;

/// <summary>
/// Closed → (threshold consecutive failures) → open for a while → half-open: one trial call decides. Keeps a dead
/// link from costing every caller a full deadline.
/// </summary>
internal sealed class CircuitBreaker(int failureThreshold, TimeSpan openDuration, TimeProvider time)
{
    private readonly Lock _gate = new();
    private int _failures;
    private DateTimeOffset _openUntil = DateTimeOffset.MinValue;
    private bool _trialInFlight;

    public bool IsOpen
    {
        get
        {
            lock (_gate) return _failures >= failureThreshold && time.GetUtcNow() < _openUntil;
        }
    }

    /// <summary>Whether a call may go out now (false while open, and while a half-open trial is running).</summary>
    public bool TryAcquire()
    {
        lock (_gate)
        {
            if (_failures < failureThreshold) return true;
            if (time.GetUtcNow() < _openUntil || _trialInFlight) return false;
            _trialInFlight = true;
            return true;
        }
    }

    public void Success()
    {
        lock (_gate)
        {
            _failures = 0;
            _trialInFlight = false;
        }
    }

    public void Failure()
    {
        lock (_gate)
        {
            _failures++;
            _trialInFlight = false;
            if (_failures >= failureThreshold) _openUntil = time.GetUtcNow() + openDuration;
        }
    }
}
