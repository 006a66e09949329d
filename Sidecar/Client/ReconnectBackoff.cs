namespace OrleansControl.Sidecar.Client;

/// <summary>
/// Exponential backoff with "equal jitter": the n-th delay is half of min(max, initial·2ⁿ) plus a random
/// share of the other half. It never gives up; it only caps. Jitter keeps a fleet of sidecars that lost the
/// same server from reconnecting in lock-step.
/// </summary>
public sealed class ReconnectBackoff(TimeSpan initial, TimeSpan max, Random? random = null)
{
    private readonly Random _random = random ?? Random.Shared;
    private int _attempt;

    public int Attempt => _attempt;

    public TimeSpan Next() => Next(max);

    /// <summary>The next delay with its ceiling held at <paramref name="cap"/> (if lower than the maximum); the jitter stays.</summary>
    public TimeSpan Next(TimeSpan cap)
    {
        var exp = Math.Min(_attempt, 30);
        var ceiling = Math.Min(Math.Min(max.TotalMilliseconds, cap.TotalMilliseconds), initial.TotalMilliseconds * Math.Pow(2, exp));
        _attempt++;
        var half = ceiling / 2;
        return TimeSpan.FromMilliseconds(half + (_random.NextDouble() * half));
    }

    public void Reset() => _attempt = 0;
}
