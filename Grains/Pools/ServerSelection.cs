using OrleansControl.GrainInterfaces.Models;

namespace OrleansControl.Grains.Pools;

/// <summary>
/// Which server gets a connection. Pure functions over the pool's servers and loads, so the rules are tested
/// without a silo:
/// <list type="bullet">
/// <item>Assign: the preferred server if it is healthy and has a free slot; otherwise the zone with the lowest
/// utilisation (spreading across zones), and in it the least-utilised healthy server with a free slot.</item>
/// <item>Failover target: a healthy server with a free slot other than the current one and the excluded ones, in
/// another zone when one exists, least utilised first. Never the current server: a one-server pool has no target.</item>
/// <item>"Healthy" means declared healthy and not ejected (<paramref name="ejected"/>: suspect servers, see
/// <see cref="OutlierDetection"/>).</item>
/// </list>
/// </summary>
public static class ServerSelection
{
    public static ServerDefinition? PickForAssignment(
        IReadOnlyDictionary<string, ServerDefinition> servers, IReadOnlyDictionary<string, int> load, string? preferred,
        IReadOnlySet<string>? ejected = null)
    {
        if (preferred is not null && servers.TryGetValue(preferred, out var p) && HasFreeSlot(p, load, ejected))
            return p;

        var candidates = servers.Values.Where(s => HasFreeSlot(s, load, ejected)).ToList();
        if (candidates.Count == 0)
            return null;

        var zoneUtilisation = ZoneUtilisation(servers, load);
        return candidates
            .OrderBy(s => zoneUtilisation[s.Zone])
            .ThenBy(s => Utilisation(s, load))
            .ThenBy(s => s.ServerId, StringComparer.Ordinal)
            .First();
    }

    public static ServerDefinition? PickFailoverTarget(
        IReadOnlyDictionary<string, ServerDefinition> servers, IReadOnlyDictionary<string, int> load,
        string? currentServerId, string? preferredTarget, IReadOnlySet<string>? ejected = null, IReadOnlyCollection<string>? excluded = null)
    {
        if (preferredTarget is not null && preferredTarget != currentServerId && excluded?.Contains(preferredTarget) != true
            && servers.TryGetValue(preferredTarget, out var p) && HasFreeSlot(p, load, ejected))
            return p;
        return RankFailoverTargets(servers, load, currentServerId, ejected).FirstOrDefault(s => excluded?.Contains(s.ServerId) != true);
    }

    /// <summary>Every failover target, best first: the order <see cref="PickFailoverTarget"/> chooses in (its backups).</summary>
    public static IEnumerable<ServerDefinition> RankFailoverTargets(
        IReadOnlyDictionary<string, ServerDefinition> servers, IReadOnlyDictionary<string, int> load,
        string? currentServerId, IReadOnlySet<string>? ejected = null)
    {
        var currentZone = currentServerId is not null && servers.TryGetValue(currentServerId, out var current) ? current.Zone : null;
        return servers.Values
            .Where(s => s.ServerId != currentServerId && HasFreeSlot(s, load, ejected))
            .OrderBy(s => currentZone is not null && s.Zone == currentZone ? 1 : 0)
            .ThenBy(s => Utilisation(s, load))
            .ThenBy(s => s.ServerId, StringComparer.Ordinal);
    }

    public static bool HasFreeSlot(ServerDefinition server, IReadOnlyDictionary<string, int> load, IReadOnlySet<string>? ejected = null) =>
        server.Health == ServerHealth.Healthy && ejected?.Contains(server.ServerId) != true && LoadOf(server.ServerId, load) < server.Capacity;

    public static int LoadOf(string serverId, IReadOnlyDictionary<string, int> load) =>
        load.TryGetValue(serverId, out var n) ? n : 0;

    private static double Utilisation(ServerDefinition s, IReadOnlyDictionary<string, int> load) =>
        s.Capacity == 0 ? 1 : (double)LoadOf(s.ServerId, load) / s.Capacity;

    private static Dictionary<string, double> ZoneUtilisation(
        IReadOnlyDictionary<string, ServerDefinition> servers, IReadOnlyDictionary<string, int> load) =>
        servers.Values.GroupBy(s => s.Zone).ToDictionary(
            g => g.Key,
            g =>
            {
                var capacity = g.Sum(s => s.Capacity);
                return capacity == 0 ? 1 : (double)g.Sum(s => LoadOf(s.ServerId, load)) / capacity;
            });
}
