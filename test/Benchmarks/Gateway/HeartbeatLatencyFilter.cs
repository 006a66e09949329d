using OrleansControl.GrainInterfaces.Models;

namespace OrleansControl.Benchmarks.Gateway;

/// <summary>
/// Silo-side probe: when a connection grain has applied a heartbeat, records the time since the sidecar stamped it
/// (<see cref="Heartbeat.SentAt"/>). Same process, same clock, so this is send → grain update end to end.
/// </summary>
internal sealed class HeartbeatLatencyFilter : IIncomingGrainCallFilter
{
    private readonly long[] _micros;
    private long _count;

    public HeartbeatLatencyFilter(int capacity) => _micros = new long[capacity];

    public volatile bool Recording;

    public long Count => Interlocked.Read(ref _count);

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        await context.Invoke();
        if (!Recording || context.Request.GetArgumentCount() != 1 || context.Request.GetArgument(0) is not Heartbeat hb) return;
        var micros = (long)((DateTimeOffset.UtcNow - hb.SentAt).TotalMicroseconds);
        var i = Interlocked.Increment(ref _count) - 1;
        if (i < _micros.Length) _micros[i] = micros;
    }

    public (double P50Ms, double P99Ms, double MaxMs) Percentiles()
    {
        var n = (int)Math.Min(Count, _micros.Length);
        if (n == 0) return (0, 0, 0);
        var sorted = _micros.AsSpan(0, n).ToArray();
        Array.Sort(sorted);
        double At(double q) => sorted[Math.Min(n - 1, (int)(q * n))] / 1000.0;
        return (At(0.50), At(0.99), sorted[^1] / 1000.0);
    }
}
