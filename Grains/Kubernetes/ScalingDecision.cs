using OrleansControl.GrainInterfaces.Models;

namespace OrleansControl.Grains.Kubernetes;

/// <summary>A scale-up from the Deployment's current replicas; <see cref="To"/> &lt;= <see cref="From"/> means it is at its bound.</summary>
public sealed record ScaleUpPlan(int From, int To, string Why)
{
    public bool AtBound => To <= From;
}

/// <summary>
/// When a pool's Deployment is scaled, as pure functions (tested without a silo or an API server). The rules:
/// <list type="number">
/// <item>A server is usable when it is declared healthy and not suspect (the rule of <c>ServerSelection</c>).</item>
/// <item>Scale up when fewer servers are usable than the pool's minimum (by the shortfall), or when a failover found no
/// target (by one), less the pods already on their way (started, not yet registered). Never above the maximum; never
/// below the minimum.</item>
/// <item>The pool's need: the fewest usable servers that carry its connections (largest capacity first) plus one
/// spare, so a failover always has a target; never less than the minimum.</item>
/// <item>Over its need: one usable server fewer would still meet the need, and a usable server carries no connection
/// (that one is given up, so a scale-down moves nobody). After the scale-down delay over its need, scale down by one,
/// never below the minimum.</item>
/// </list>
/// </summary>
public static class ScalingDecision
{
    public static bool IsUsable(ServerInstance server) => server.Health == ServerHealth.Healthy && !server.Suspect;

    /// <summary>A failed instance (declared unhealthy, or suspect) is out of its Service's rotation; a degraded one is not.</summary>
    public static bool BelongsInRotation(ServerInstance server) => server.Health != ServerHealth.Unhealthy && !server.Suspect;

    /// <summary>The pod of a server: the server id is the pod name, or the server's address is the pod's IP.</summary>
    public static bool IsServerOf(ServerInstance server, ServerPod pod) =>
        server.ServerId == pod.Name || (pod.PodIp is { Length: > 0 } ip && HostOf(server.Address) == ip);

    /// <summary>
    /// Pods that should become usable servers without another scale-up: not terminating, not yet a server of the pool,
    /// created within the ready timeout (a pod that never got Ready is not waited for forever).
    /// </summary>
    public static int Coming(IEnumerable<ServerPod> pods, IReadOnlyCollection<ServerInstance> servers, DateTimeOffset now, TimeSpan readyTimeout) =>
        pods.Count(p => !p.Terminating && !servers.Any(s => IsServerOf(s, p)) && (p.Created is not { } created || now - created < readyTimeout));

    public static int Usable(IEnumerable<ServerInstance> servers) => servers.Count(IsUsable);

    /// <summary>Null when nothing calls for a scale-up.</summary>
    public static ScaleUpPlan? PlanScaleUp(int replicas, int usable, int coming, bool noTarget, PoolScalingOptions bounds)
    {
        var shortfall = bounds.Min - usable;
        var more = Math.Max(shortfall, noTarget ? 1 : 0) - coming;
        if (more <= 0 && replicas >= bounds.Min)
            return null;
        var why = shortfall > 0 ? $"{usable} usable of minimum {bounds.Min}" : noTarget ? "a failover found no target" : $"below minimum {bounds.Min} replicas";
        return new ScaleUpPlan(replicas, Math.Clamp(replicas + Math.Max(more, 0), bounds.Min, bounds.Max), why);
    }

    private static string HostOf(string address)
    {
        var colon = address.LastIndexOf(':');
        var host = colon > 0 && !address.EndsWith(']') ? address[..colon] : address;
        return host.Trim('[', ']');
    }

    public static int Need(IReadOnlyCollection<ServerInstance> servers, PoolScalingOptions bounds)
    {
        var load = servers.Sum(s => s.Load);
        int carrying = 0, capacity = 0;
        foreach (var server in servers.Where(IsUsable).OrderByDescending(s => s.Capacity))
        {
            if (capacity >= load && carrying > 0)
                break;
            capacity += server.Capacity;
            carrying++;
        }
        return Math.Max(bounds.Min, carrying + 1);
    }

    /// <summary>The server a scale-down would give up, or null when the pool is not over its need.</summary>
    public static ServerInstance? ScaleDownVictim(IReadOnlyCollection<ServerInstance> servers, PoolScalingOptions bounds)
    {
        var usable = servers.Where(IsUsable).ToList();
        if (usable.Count - 1 < Need(servers, bounds))
            return null;
        return usable.Where(s => s.Load == 0).OrderByDescending(s => s.ServerId, StringComparer.Ordinal).FirstOrDefault();
    }
}

