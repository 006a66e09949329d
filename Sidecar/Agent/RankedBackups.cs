using OrleansControl.Sidecar.Connections;

namespace OrleansControl.Sidecar.Agent;

/// <summary>One of the connection's ranked backups, as the controller's latest BACKUPS command named it.</summary>
public sealed record RankedBackup(string ServerId, string Address, string Zone);

/// <summary>A move the sidecar made on its own, and whether a state report (with <c>moved_from</c>) has told the controller.</summary>
public sealed record OwnMove(string From, string To, string Cause, DateTimeOffset At, bool Reported);

/// <summary>
/// Where the sidecar may move on its own. The controller ranks (best first, never the current server, never a
/// suspect one) and the newest list replaces the older; the sidecar only filters, in this order of rules:
/// <list type="number">
/// <item>an entry whose address is not host:port is dropped when the list arrives (and a repeated address after its first);</item>
/// <item>never the server being left, nor the one the link is signed on at (a list can be older than the last move);</item>
/// <item>the rest in the controller's order, each tried once per failover: the first that signs on wins.</item>
/// </list>
/// </summary>
public static class BackupSelection
{
    public static IReadOnlyList<RankedBackup> Accept(IEnumerable<RankedBackup> offered)
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        return [.. offered.Where(b => IsoEndpoint.TryParse(b.Address, out _) && seen.Add(b.Address))];
    }

    public static IEnumerable<RankedBackup> Candidates(IReadOnlyList<RankedBackup> backups, string? leaving, string? signedOnAt) =>
        backups.Where(b => !Same(b.Address, leaving) && !Same(b.Address, signedOnAt));

    private static bool Same(string address, string? other) => string.Equals(address, other, StringComparison.OrdinalIgnoreCase);
}
