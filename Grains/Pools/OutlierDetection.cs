using OrleansControl.GrainInterfaces.Models;

namespace OrleansControl.Grains.Pools;

/// <summary>
/// When evidence ejects a server, as pure functions (tested without a silo). The rules:
/// <list type="bullet">
/// <item>A failure counts within <see cref="ServerEjectionOptions.FailureWindow"/>; <see cref="ServerEjectionOptions.FailuresToEject"/>
/// of them eject the server (Envoy's consecutive failures: a sign-on in between clears the count).</item>
/// <item>An ejection lasts <c>BaseEjectionTime × 2^(ejections so far)</c>, capped at MaxEjectionTime (Envoy's growing
/// ejection time); a sign-on there ends it and resets the count.</item>
/// <item>Safety: at most MaxEjectionPercent of a pool's declared-healthy servers are ejected at once, and never all of
/// them (Route 53 ARC: never switch everything off). Evidence beyond the cap is kept, logged, not acted on.</item>
/// </list>
/// </summary>
public static class OutlierDetection
{
    public static bool IsEjected(ServerEvidence? evidence, DateTimeOffset now) => evidence?.EjectedUntil > now;

    /// <summary>Records a failure; returns how long to eject the server for, or null (not enough evidence or capped).</summary>
    public static TimeSpan? RecordFailure(ServerEvidence evidence, DateTimeOffset now, ServerEjectionOptions options)
    {
        evidence.Failures.RemoveAll(t => now - t > options.FailureWindow);
        evidence.Failures.Add(now);
        if (IsEjected(evidence, now) || evidence.Failures.Count < options.FailuresToEject)
            return null;
        var factor = Math.Pow(2, Math.Min(evidence.Ejections, 20));
        return TimeSpan.FromMilliseconds(Math.Min(options.MaxEjectionTime.TotalMilliseconds, options.BaseEjectionTime.TotalMilliseconds * factor));
    }

    /// <summary>Null if one more server of the pool may be ejected now, else why not.</summary>
    public static string? CapReached(IReadOnlyDictionary<string, ServerDefinition> servers, IReadOnlyDictionary<string, ServerEvidence> evidence,
        DateTimeOffset now, ServerEjectionOptions options)
    {
        var healthy = servers.Values.Where(s => s.Health == ServerHealth.Healthy).Select(s => s.ServerId).ToList();
        var ejected = healthy.Count(id => IsEjected(evidence.GetValueOrDefault(id), now));
        if (ejected + 1 >= healthy.Count)
            return $"it is the last usable server of {healthy.Count}";
        var allowed = Math.Max(1, healthy.Count * options.MaxEjectionPercent / 100);
        return ejected + 1 > allowed ? $"{ejected} of {healthy.Count} servers are ejected already (at most {options.MaxEjectionPercent} %)" : null;
    }
}
