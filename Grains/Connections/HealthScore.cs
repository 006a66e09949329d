namespace OrleansControl.Grains.Connections;

/// <summary>The health-score formula (documented in docs/grains.md). Pure, so it is tested on its own.</summary>
public static class HealthScore
{
    public static int Compute(double echoRttMs, int errors, int timeouts, int missedIntervals)
    {
        var rttPenalty = Math.Clamp((echoRttMs - 100) / 20, 0, 40);
        var errorPenalty = Math.Min(30, 10 * Math.Max(0, errors));
        var timeoutPenalty = Math.Min(30, 15 * Math.Max(0, timeouts));
        var missedPenalty = 25 * Math.Max(0, missedIntervals);
        var score = 100 - rttPenalty - errorPenalty - timeoutPenalty - missedPenalty;
        return (int)Math.Clamp(Math.Round(score), 0, 100);
    }
}
