using System.Collections.Immutable;
using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;

namespace OrleansControl.Grains.Index;

/// <summary>
/// Soft-state listing of all connections, ordered by id. Not persisted: connection grains re-send their row on
/// status changes, heartbeat persists and backstop reminders, so after a loss it refills within one backstop period.
/// Replicas of the other region's connections are listed too (<see cref="ConnectionSummary.Replica"/>); their replica
/// grains re-send their row on every sync from the peer, which runs every few seconds.
/// </summary>
public sealed class ConnectionIndexGrain : Grain, IConnectionIndexGrain
{
    private const int MaxPageSize = 1000;
    private readonly SortedDictionary<string, ConnectionSummary> _rows = new(StringComparer.Ordinal);

    public Task Upsert(ConnectionSummary summary)
    {
        // One-way messages may arrive out of order: keep the newest (a later registration, else a higher version).
        var order = _rows.TryGetValue(summary.ConnectionId, out var current)
            ? ConnectionIncarnation.Compare(summary.Incarnation, summary.Version, current.Incarnation, current.Version)
            : 1;
        if (order > 0 || (order == 0 && summary.UpdatedAt >= current!.UpdatedAt))
            _rows[summary.ConnectionId] = summary;
        return Task.CompletedTask;
    }

    public Task<ConnectionPage> List(ConnectionQuery query)
    {
        var pageSize = Math.Clamp(query.PageSize <= 0 ? 100 : query.PageSize, 1, MaxPageSize);
        var items = ImmutableArray.CreateBuilder<ConnectionSummary>(pageSize);
        var total = 0;
        string? next = null;
        foreach (var row in _rows.Values)
        {
            if (!Matches(row, query))
                continue;
            total++;
            if (query.PageToken is not null && string.CompareOrdinal(row.ConnectionId, query.PageToken) <= 0)
                continue;
            if (items.Count < pageSize)
                items.Add(row);
            else
                next ??= items[^1].ConnectionId;
        }
        return Task.FromResult(new ConnectionPage(items.ToImmutable(), next, total));
    }

    private static bool Matches(ConnectionSummary row, ConnectionQuery q) =>
        (q.Status is null || row.Status == q.Status)
        && (q.ClientId is null || row.ClientId == q.ClientId)
        && (q.ServerPool is null || row.ServerPool == q.ServerPool)
        && (q.ServerId is null || row.ServerId == q.ServerId)
        && (q.SidecarId is null || row.SidecarId == q.SidecarId)
        && (q.Replicas is null || row.Replica == q.Replicas);
}
