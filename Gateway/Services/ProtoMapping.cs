using System.Collections.Immutable;
using Google.Protobuf.WellKnownTypes;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.GrainInterfaces.Streams;
using Proto = OrleansControl.Contract.V1;

namespace OrleansControl.Gateway.Services;

/// <summary>Grain models to wire messages and back. Status enums share their numbers (UNSPECIFIED = None).</summary>
internal static class ProtoMapping
{
    public static Proto.ConnectionStatus ToProto(this ConnectionStatus status) => (Proto.ConnectionStatus)(int)status;

    public static ConnectionStatus FromProto(this Proto.ConnectionStatus status) => (ConnectionStatus)(int)status;

    public static Proto.Connection ToProto(this ConnectionSnapshot s, string localRegion)
    {
        // The listing row and the full snapshot share one mapping; the snapshot adds what only it knows.
        var updatedAt = s.RecentTransitions.IsDefaultOrEmpty ? s.RegisteredAt : s.RecentTransitions[^1].At;
        var c = new ConnectionSummary(s.ConnectionId, s.ClientId, s.ServerPool, s.ServerId, s.Status, s.HealthScore,
            s.FailoverTarget, s.Version, s.LastHeartbeat, updatedAt, s.ServerAddress, s.SidecarId, s.Region, s.StatusDetail,
            Incarnation: s.Incarnation).ToProto(localRegion);
        c.Metadata.Add(s.Metadata);
        c.TransactionsPerSecond = s.TransactionsPerSecond;
        c.HostSilo = s.HostSilo ?? "";
        c.ActivatedAt = s.ActivatedAt is { } activated ? Timestamp.FromDateTimeOffset(activated) : null;

        if (!s.Standbys.IsDefaultOrEmpty)
            c.Standbys.Add(s.Standbys.Select(b => new Proto.StandbyClient
            {
                SidecarId = b.SidecarId,
                Region = b.Region ?? "",
                RegisteredAt = Timestamp.FromDateTimeOffset(b.RegisteredAt),
                FormerPrimary = b.FormerPrimary,
            }));
        c.ActivatingSidecarId = s.Activation?.SidecarId ?? "";
        return c;
    }

    public static Proto.Connection ToProto(this ConnectionSummary s, string localRegion) => new()
    {
        ConnectionId = s.ConnectionId,
        ClientId = s.ClientId,
        ServerPool = s.ServerPool,
        ServerId = s.ServerId ?? "",
        ServerAddress = s.ServerAddress ?? "",
        Status = s.Status.ToProto(),
        HealthScore = s.HealthScore,
        FailoverTarget = s.FailoverTarget ?? "",
        Version = s.Version,
        LastHeartbeat = s.LastHeartbeat is { } hb ? Timestamp.FromDateTimeOffset(hb) : null,
        UpdatedAt = Timestamp.FromDateTimeOffset(s.UpdatedAt),
        Region = s.Region ?? localRegion,
        SidecarId = s.SidecarId ?? "",
        StatusDetail = s.StatusDetail,
        Incarnation = s.Incarnation ?? "",
    };

    /// <summary>A peer's entry as an index row (for this region's listing of its replicas).</summary>
    public static ConnectionSummary ToSummary(this Proto.Connection c) => new(
        c.ConnectionId, c.ClientId, c.ServerPool, NullIfEmpty(c.ServerId), c.Status.FromProto(), c.HealthScore,
        NullIfEmpty(c.FailoverTarget), c.Version, c.LastHeartbeat?.ToDateTimeOffset(),
        c.UpdatedAt?.ToDateTimeOffset() ?? DateTimeOffset.UnixEpoch, NullIfEmpty(c.ServerAddress), NullIfEmpty(c.SidecarId),
        NullIfEmpty(c.Region), c.StatusDetail, Incarnation: NullIfEmpty(c.Incarnation));

    /// <summary>
    /// A replica as the wire entry: the last full entry SyncState brought, with the current row (which the bus may have
    /// moved on since) laid over it. Registration metadata comes only with full entries.
    /// </summary>
    public static Proto.Connection ToProto(this GrainInterfaces.ReplicaEntry replica)
    {
        var full = replica.Entry is null ? null : Proto.Connection.Parser.ParseFrom(replica.Entry);
        if (replica.Row is not { } row
            || (full is not null && ConnectionIncarnation.Compare(full.Incarnation, full.Version, row.Incarnation, row.Version) >= 0))
            return full ?? new Proto.Connection();
        var current = row.ToProto(row.Region ?? "");
        if (full is not null) current.Metadata.Add(full.Metadata);
        return current;
    }

    private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;

    public static Proto.ConnectionEvent ToProto(this ConnectionStatusChanged e, string localRegion) => new()
    {
        Connection = new Proto.Connection
        {
            ConnectionId = e.ConnectionId,
            ClientId = e.ClientId,
            ServerId = e.ServerId ?? "",
            ServerAddress = e.ServerAddress ?? "",
            SidecarId = e.SidecarId ?? "",
            Status = e.To.ToProto(),
            HealthScore = e.HealthScore,
            FailoverTarget = e.FailoverTarget ?? "",
            Version = e.Version,
            UpdatedAt = Timestamp.FromDateTimeOffset(e.At),
            Region = e.Region ?? localRegion,
            Incarnation = e.Incarnation ?? "",
        },
        PreviousStatus = e.From.ToProto(),
        Reason = e.Reason,
        At = Timestamp.FromDateTimeOffset(e.At),
    };

    public static Proto.ServerInstance ToProto(this ServerInstance s) => new()
    {
        ServerId = s.ServerId,
        Address = s.Address,
        Zone = s.Zone,
        Capacity = s.Capacity,
        Load = s.Load,
        Healthy = s.Health == ServerHealth.Healthy && !s.Suspect,
        Suspect = s.Suspect,
        EjectedUntil = s.EjectedUntil is { } until ? Timestamp.FromDateTimeOffset(until) : null,
        HealthDetail = s.HealthDetail,
        Health = s.Health.ToProto(),
    };

    public static Proto.ServerHealth ToProto(this ServerHealth h) => h switch
    {
        ServerHealth.Healthy => Proto.ServerHealth.Healthy,
        ServerHealth.Degraded => Proto.ServerHealth.Degraded,
        _ => Proto.ServerHealth.Unhealthy,
    };

    /// <summary>
    /// The declared health a peer's server carries; from a peer without the <c>health</c> field, <c>healthy</c>
    /// (which also says "not ejected") is the best there is.
    /// </summary>
    public static ServerHealth DeclaredHealth(this Proto.ServerInstance s) => s.Health switch
    {
        Proto.ServerHealth.Healthy => ServerHealth.Healthy,
        Proto.ServerHealth.Degraded => ServerHealth.Degraded,
        Proto.ServerHealth.Unhealthy => ServerHealth.Unhealthy,
        _ => s.Healthy ? ServerHealth.Healthy : ServerHealth.Unhealthy,
    };

    /// <summary>A server sidecar's session report (checked by <see cref="RequestValidation.SessionReportProblem"/>) as the sessions grain keeps it.</summary>
    public static ServerSessionReport ToModel(this Proto.SessionReport r, string reporterSidecarId) => new(
        r.ServerId, r.ServerAddress.Length == 0 ? null : r.ServerAddress, reporterSidecarId,
        [.. r.Sessions.Select(x => new HeldSession(x.ClientAddress, x.SignedOnAs.Length == 0 ? null : x.SignedOnAs, x.SignedOn,
            x.OpenedAt?.ToDateTimeOffset() ?? DateTimeOffset.UtcNow))]);
}
