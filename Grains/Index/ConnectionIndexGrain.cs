using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.Grains.Telemetry;

namespace OrleansControl.Grains.Index;

/// <summary>
/// Soft-state listing of all connections, ordered by id. Not persisted: connection grains re-send their row on
/// status changes, heartbeat persists and backstop reminders, so after a loss it refills within one backstop period.
/// Replicas of the other region's connections are listed too (<see cref="ConnectionSummary.Replica"/>); their replica
/// grains re-send their row on every sync from the peer, which runs every few seconds.
/// A row never outlives the grain state it came from (<see cref="Supersedes"/>, <see cref="Forget"/>): after the store
/// lost or reloaded a connection, the listing shows what its grain now serves, not a higher version from before.
/// </summary>
public sealed class ConnectionIndexGrain(ILogger<ConnectionIndexGrain> logger) : Grain, IConnectionIndexGrain
{
    private const int MaxPageSize = 1000;
    private readonly SortedDictionary<string, ConnectionSummary> _rows = new(StringComparer.Ordinal);

    public Task Upsert(ConnectionSummary summary)
    {
        if (!_rows.TryGetValue(summary.ConnectionId, out var current))
        {
            _rows[summary.ConnectionId] = summary;
        }
        else if (Supersedes(summary, current))
        {
            if (summary.Version < current.Version)
                Log.IndexRowReloaded(logger, summary.ConnectionId, current.Version, summary.Version);
            _rows[summary.ConnectionId] = summary;
        }
        return Task.CompletedTask;
    }

    public Task Forget(string connectionId, DateTimeOffset asOf)
    {
        if (_rows.TryGetValue(connectionId, out var row) && !row.Replica && row.UpdatedAt < asOf)
        {
            _rows.Remove(connectionId);
            Log.IndexRowForgotten(logger, connectionId, row.Version);
        }
        return Task.CompletedTask;
    }

    /// <summary>
    /// Whether <paramref name="incoming"/> replaces <paramref name="current"/>: a later incarnation, else a later registration of the id wins
    /// (the earlier one was lost with the store), then a later activation of the grain (it re-read the store, which
    /// may hold an older version than the previous activation had in memory), then the higher version, then the later
    /// write (one-way messages may arrive out of order). Rows without registration or activation times (older silos,
    /// replicas) compare by version alone.
    /// </summary>
    internal static bool Supersedes(ConnectionSummary incoming, ConnectionSummary current)
    {
        // Another registration of the id (the owner restarted on memory, or the store lost it): the later one wins,
        // whatever its version (ConnectionIncarnation; replicas carry it too).
        if (ConnectionIncarnation.Differ(incoming.Incarnation, current.Incarnation))
            return ConnectionIncarnation.Compare(incoming.Incarnation, incoming.Version, current.Incarnation, current.Version) > 0;
        if (incoming.RegisteredAt is { } r1 && current.RegisteredAt is { } r0 && r1 != r0)
            return r1 > r0;
        if (incoming.ActivatedAt is { } a1 && current.ActivatedAt is { } a0 && a1 != a0)
            return a1 > a0;
        return incoming.Version > current.Version
            || (incoming.Version == current.Version && incoming.UpdatedAt >= current.UpdatedAt);
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
