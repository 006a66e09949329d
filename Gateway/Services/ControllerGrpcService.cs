using System.Collections.Immutable;
using System.Threading.Channels;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using Orleans.Streams;
using OrleansControl.Contract.V1;
using OrleansControl.Gateway.Errors;
using OrleansControl.Gateway.Hosting;
using OrleansControl.Gateway.Regions;
using OrleansControl.Gateway.Security;
using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.GrainInterfaces.Streams;
using static OrleansControl.Gateway.Services.RequestValidation;
using ConnectionStatus = OrleansControl.Contract.V1.ConnectionStatus;

namespace OrleansControl.Gateway.Services;

/// <summary>
/// The registry operations, each: validate, authorize what depends on the resource, one or two grain calls. Who may
/// call each at all is its policy (<see cref="GatewayPolicies"/>), checked before the method runs.
/// </summary>
internal sealed class ControllerGrpcService(
    IClusterClient cluster,
    GatewayAuthorizer auth,
    IOptions<GatewayOptions> options,
    RegistrySync sync,
    PeerAssignments peers,
    PeerLink link,
    PeerRedisReplica peerRedis) : ControllerService.ControllerServiceBase
{
    private const int DefaultPageSize = 100;
    private const int MaxPageSize = 1000;
    private const int MaxSyncEntries = 1000;
    private const int MaxRelayedReports = Regions.PeerSessionRelay.MaxReportsPerCall;
    /// <summary>A relayed report held longer than this is refused as malformed (a real one is seconds old).</summary>
    private static readonly TimeSpan MaxRelayAge = TimeSpan.FromDays(1);
    /// <summary>How long a sidecar has to carry out a command an operator's call caused (connect, sign off).</summary>
    private static readonly TimeSpan CommandDeadline = TimeSpan.FromSeconds(30);

    private string Region => options.Value.Region;

    private IConnectionGrain ConnectionGrain(string id) => cluster.GetGrain<IConnectionGrain>(id);

    [Authorize(Policy = GatewayPolicies.SidecarOrOperator)]
    public override async Task<RegisterConnectionResponse> RegisterConnection(RegisterConnectionRequest request, ServerCallContext context)
    {
        var caller = GatewayAuthorizer.Caller(context);
        var clientId = Id(request.ClientId, "client_id");
        var pool = Id(request.ServerPool, "server_pool");
        var preferred = OptionalId(request.PreferredServer, "preferred_server");
        Metadata(request.Metadata, "metadata");
        var connectionId = OptionalId(request.ConnectionId, "connection_id") ?? $"conn-{Guid.NewGuid():N}";
        var sidecarId = OptionalId(request.SidecarId, "sidecar_id");

        var actsAsSidecar = caller.ActsAsSidecar;
        if (actsAsSidecar)
        {
            if (sidecarId is not null)
                await auth.RequireAsync(context, GatewayPolicies.OwningSidecarOrOperator, sidecarId, "a sidecar registers connections only for itself");
            sidecarId = caller.Subject;
        }

        // A preference for a server the pool does not have is a mistake to name, not a wish to ignore. (With a peer
        // region the pool's owner decides: its AssignServer answers the same NOT_FOUND.)
        if (preferred is not null && !peers.Enabled) await RequireServerAsync(pool, preferred);
        if (request.Standby)
            return await RegisterStandbyAsync(ConnectionGrain(connectionId), new ConnectionRegistration(clientId, pool, null,
                request.Metadata.ToImmutableDictionary(StringComparer.Ordinal), sidecarId, Region, Standby: true));

        // Bank side: the scheme region's pool chooses; its choice becomes the local preference.
        var peerChoice = peers.Enabled
            ? await peers.AssignAsync(pool, connectionId, clientId, preferred, context.CancellationToken)
            : null;
        var grain = ConnectionGrain(connectionId);
        var registration = new ConnectionRegistration(clientId, pool, peerChoice ?? preferred,
            request.Metadata.ToImmutableDictionary(StringComparer.Ordinal), sidecarId, Region);
        var snapshot = await grain.Register(registration);
        if (peers.Enabled && peerChoice is null) await peers.QueueForPeerAsync(pool, connectionId, clientId, snapshot.ServerId);
        var owner = snapshot.SidecarId;
        if (snapshot.IsStandby(sidecarId))
        {
            // A former primary that came back after its standby took over: it is a standby now, and opens no link.
            return new RegisterConnectionResponse { Connection = snapshot.ToProto(Region), Standby = true };
        }
        if (actsAsSidecar) await auth.RequireAsync(context, GatewayPolicies.OwningSidecarOrOperator, owner, BelongsToAnother(connectionId));

        // An operator registering for a sidecar tells that sidecar to open the link (once: a repeated registration
        // returns the existing entry and sends nothing). The id is unique: a restarted controller never reuses it.
        if (!actsAsSidecar && owner is not null && snapshot.ServerAddress is not null && snapshot.Version == 1)
        {
            await cluster.GetGrain<ISidecarOutboxGrain>(owner).Enqueue(new SidecarCommand(
                $"connect-{Guid.NewGuid():N}", SidecarCommandKind.Connect, connectionId,
                snapshot.ServerId, snapshot.ServerAddress, DateTimeOffset.UtcNow + CommandDeadline,
                "registered by an operator"));
        }
        var connection = snapshot.ToProto(Region);
        if (peers.Enabled && peerChoice is null)
        {
            // Said in the answer only: the stored entry keeps its own status detail, and the scheme's confirmation
            // (the queued AssignServer) needs nothing from the caller.
            var provisional = peers.ProvisionalDetail(pool);
            connection.StatusDetail = connection.StatusDetail.Length == 0 ? provisional : $"{connection.StatusDetail}; {provisional}";
        }
        return new RegisterConnectionResponse { Connection = connection };
    }

    private static string BelongsToAnother(string connectionId) => $"connection '{connectionId}' belongs to another sidecar";

    private async Task RequireServerAsync(string pool, string serverId)
    {
        var servers = (await cluster.GetGrain<IServerPoolGrain>(pool).GetSnapshot()).Servers;
        if (!servers.Any(x => x.ServerId == serverId)) throw new GrainInterfaces.Errors.ServerNotFoundException(pool, serverId);
    }

    /// <summary>A standby client (DR) of an existing connection: no assignment, no link, no command until it is activated.</summary>
    private async Task<RegisterConnectionResponse> RegisterStandbyAsync(IConnectionGrain grain, ConnectionRegistration registration)
    {
        if (registration.SidecarId is null)
            throw GatewayErrors.InvalidArgument("sidecar_id", "is required with standby");
        var snapshot = await grain.Register(registration);
        return new RegisterConnectionResponse { Connection = snapshot.ToProto(Region), Standby = snapshot.SidecarId != registration.SidecarId };
    }

    /// <summary>
    /// Runs a call that changes a connection; for an id this region holds only a replica of, answers
    /// FAILED_PRECONDITION naming the owner (the entry is read only here) instead of NOT_FOUND.
    /// </summary>
    private async Task<T> OwnedHere<T>(string id, Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (GrainInterfaces.Errors.ConnectionNotFoundException)
        {
            if (await cluster.GetGrain<IPeerReplicaGrain>(id).Get() is not { } replica) throw;
            var owner = replica.ToProto().Region;
            throw GatewayErrors.FailedPrecondition(
                $"connection '{id}' is owned by region {owner}: it is read only in region {Region}; change it there");
        }
    }

    [Authorize(Policy = GatewayPolicies.SidecarOrOperator)]
    public override async Task<ReportHealthResponse> ReportHealth(ReportHealthRequest request, ServerCallContext context)
    {
        var id = Id(request.ConnectionId, "connection_id");
        DefinedEnum(request.Status, "status", allowUnspecified: false);
        if (request.Metrics is { } m)
        {
            EchoRtt(m.EchoRttMs, "metrics.echo_rtt_ms");
            Count(m.Errors, "metrics.errors");
            Count(m.Timeouts, "metrics.timeouts");
        }

        var grain = ConnectionGrain(id);
        var snapshot = await OwnedHere(id, grain.GetState);
        await auth.RequireAsync(context, GatewayPolicies.OwningSidecarOrOperator, snapshot.SidecarId, BelongsToAnother(id));

        if (request.Metrics is { } metrics)
        {
            var ack = await grain.RecordHeartbeat(new GrainInterfaces.Models.Heartbeat(metrics.EchoRttMs, (int)metrics.Errors,
                (int)metrics.Timeouts, metrics.SentAt?.ToDateTimeOffset() ?? DateTimeOffset.UtcNow));
            snapshot = snapshot with { Status = ack.Status, HealthScore = ack.HealthScore, Version = ack.Version };
        }

        switch (request.Status)
        {
            case LinkHealth.Down:
                snapshot = (await grain.ReportFailure(new FailureReport("sidecar reported the link down", snapshot.ServerId))).Snapshot;
                break;
            case LinkHealth.Degraded when snapshot.Status == GrainInterfaces.Models.ConnectionStatus.Active:
                snapshot = await grain.ReportHealth(new HealthReport(ReportedHealth.Degraded, "sidecar reported degraded"));
                break;
            case LinkHealth.Healthy when snapshot.Status == GrainInterfaces.Models.ConnectionStatus.Degraded:
                snapshot = await grain.ReportHealth(new HealthReport(ReportedHealth.Healthy, "sidecar reported healthy"));
                break;
        }
        return new ReportHealthResponse { Status = snapshot.Status.ToProto(), HealthScore = snapshot.HealthScore, Version = snapshot.Version };
    }

    [Authorize(Policy = GatewayPolicies.AnyContractRole)]
    public override async Task<RequestFailoverResponse> RequestFailover(RequestFailoverRequest request, ServerCallContext context)
    {
        var caller = GatewayAuthorizer.Caller(context);
        var id = Id(request.ConnectionId, "connection_id");
        var reason = Text(request.Reason, "reason", required: true);
        var key = Id(request.IdempotencyKey, "idempotency_key");
        var origin = OptionalId(request.OriginRegion, "origin_region");
        if (origin is not null && origin != Region)
            await auth.RequirePolicyAsync(context, GatewayPolicies.Peer, $"a cross-region failover (origin_region {origin})");

        var grain = ConnectionGrain(id);
        if (!caller.SeesEverything)
            await auth.RequireAsync(context, GatewayPolicies.OwningSidecarOrOperator, (await OwnedHere(id, grain.GetState)).SidecarId, BelongsToAnother(id));
        var result = await OwnedHere(id, () => grain.RequestFailover(new FailoverRequest(reason, key)));
        if (result.Outcome == FailoverOutcome.NoTarget && result.Snapshot.Status != GrainInterfaces.Models.ConnectionStatus.Failed)
        {
            // Nothing moved and nothing changed: say so instead of answering as if a move had started.
            throw GatewayErrors.FailedPrecondition(
                $"no failover target: pool '{result.Snapshot.ServerPool}' has no usable server with free capacity other than '{result.Snapshot.ServerId}'");
        }
        return new RequestFailoverResponse
        {
            Connection = result.Snapshot.ToProto(Region),
            Duplicate = result.Outcome == FailoverOutcome.Duplicate,
        };
    }

    [Authorize(Policy = GatewayPolicies.Operator)]
    public override async Task<UpdateConnectionStateResponse> UpdateConnectionState(UpdateConnectionStateRequest request, ServerCallContext context)
    {
        var caller = GatewayAuthorizer.Caller(context);
        var id = Id(request.ConnectionId, "connection_id");
        var state = DefinedEnum(request.State, "state", allowUnspecified: false);
        if (request.ExpectedVersion < 1) throw GatewayErrors.InvalidArgument("expected_version", "is required and must be at least 1");
        var reason = Text(request.Reason, "reason", required: false);

        var snapshot = await OwnedHere(id, () => ConnectionGrain(id).TransitionTo(state.FromProto(), request.ExpectedVersion,
            reason.Length == 0 ? $"operator {caller.Subject}" : reason));
        if (state == ConnectionStatus.Closed && snapshot.SidecarId is { } owner)
        {
            await cluster.GetGrain<ISidecarOutboxGrain>(owner).Enqueue(new SidecarCommand(
                $"signoff-{Guid.NewGuid():N}", SidecarCommandKind.SignOff, id, null, null,
                DateTimeOffset.UtcNow + CommandDeadline, reason.Length == 0 ? "closed by an operator" : reason));
        }
        return new UpdateConnectionStateResponse { Connection = snapshot.ToProto(Region) };
    }

    [Authorize(Policy = GatewayPolicies.Peer)]
    public override async Task<SyncStateResponse> SyncState(SyncStateRequest request, ServerCallContext context)
    {
        var caller = GatewayAuthorizer.Caller(context);
        var source = Id(request.SourceRegion, "source_region");
        await auth.RequireAsync(context, GatewayPolicies.Self, source, $"peer '{caller.Subject}' may only sync its own region's entries");
        if (request.Entries.Count > MaxSyncEntries) throw GatewayErrors.InvalidArgument("entries", $"must have at most {MaxSyncEntries} items");
        for (var i = 0; i < request.Entries.Count; i++)
        {
            var e = request.Entries[i];
            Id(e.ConnectionId, $"entries[{i}].connection_id");
            if (e.Version < 1) throw GatewayErrors.InvalidArgument($"entries[{i}].version", "must be at least 1");
            DefinedEnum(e.Status, $"entries[{i}].status", allowUnspecified: false);
        }
        return await sync.ApplyAsync(source, request.Entries, context.CancellationToken);
    }

    /// <summary>
    /// The peer (the scheme region) relays its server sidecars' session reports: kept in this region's sessions grains,
    /// each aged from when the peer received it, so this region's connection grains judge their silent clients by them.
    /// </summary>
    [Authorize(Policy = GatewayPolicies.Peer)]
    public override async Task<RelaySessionsResponse> RelaySessions(RelaySessionsRequest request, ServerCallContext context)
    {
        var caller = GatewayAuthorizer.Caller(context);
        var source = Id(request.SourceRegion, "source_region");
        await auth.RequireAsync(context, GatewayPolicies.Self, source, $"peer '{caller.Subject}' may only relay its own region's session reports");
        if (request.Reports.Count > MaxRelayedReports) throw GatewayErrors.InvalidArgument("reports", $"must have at most {MaxRelayedReports} items");
        for (var i = 0; i < request.Reports.Count; i++)
        {
            var r = request.Reports[i];
            if (r.Report is null) throw GatewayErrors.InvalidArgument($"reports[{i}].report", "is required");
            if (r.ReceivedAt is null) throw GatewayErrors.InvalidArgument($"reports[{i}].received_at", "is required");
            if (r.HeldFor is { } held && (held.Seconds < 0 || held.Nanos < 0 || held.ToTimeSpan() > MaxRelayAge))
                throw GatewayErrors.InvalidArgument($"reports[{i}].held_for", $"must be between 0 and {MaxRelayAge.TotalHours:0} h");
            if (RequestValidation.SessionReportProblem(r.Report, $"reports[{i}].report") is { } problem)
                throw new RpcException(new Status(StatusCode.InvalidArgument, problem));
            Id(r.ReporterSidecarId, $"reports[{i}].reporter_sidecar_id");
        }
        var receivedAt = DateTimeOffset.UtcNow;
        foreach (var r in request.Reports)
        {
            // Aged by what the peer measured on its own clock; an older peer's received_at only when it says nothing else
            // (then never later than our receipt: a peer clock ahead gains nothing).
            var age = r.HeldFor?.ToTimeSpan() ?? TimeSpan.FromTicks(Math.Max(0, (receivedAt - r.ReceivedAt.ToDateTimeOffset()).Ticks));
            await cluster.GetGrain<IServerSessionsGrain>(IServerSessionsGrain.KeyOf(r.Report.ServerPool, r.Report.ServerId))
                .Relayed(r.Report.ToModel(r.ReporterSidecarId), age, source);
        }
        return new RelaySessionsResponse { Accepted = request.Reports.Count };
    }

    [Authorize(Policy = GatewayPolicies.AnyContractRole)]
    public override async Task<Connection> GetConnection(GetConnectionRequest request, ServerCallContext context)
    {
        var id = Id(request.ConnectionId, "connection_id");
        ConnectionSnapshot snapshot;
        try
        {
            snapshot = await ConnectionGrain(id).GetState();
        }
        catch (GrainInterfaces.Errors.ConnectionNotFoundException)
        {
            // Owned by the other region: answer from this region's replica (operators and the peer only), or, while the
            // link is down, from the peer's Redis replica when that has a newer version (marked replica_read).
            var replica = await cluster.GetGrain<IPeerReplicaGrain>(id).Get();
            var read = link.IsDown ? await peerRedis.GetAsync(id, context.CancellationToken) : null;
            if (replica is null && read is null) throw;
            await auth.RequirePolicyAsync(context, GatewayPolicies.OperatorOrPeer, "a connection of the other region");
            return read is not null && (replica is null || read.Version > replica.Version) ? read : replica!.ToProto();
        }
        await auth.RequireAsync(context, GatewayPolicies.OwningSidecarOrOperator, snapshot.SidecarId, BelongsToAnother(id));
        return snapshot.ToProto(Region);
    }

    [Authorize(Policy = GatewayPolicies.AnyContractRole)]
    public override async Task<ListConnectionsResponse> ListConnections(ListConnectionsRequest request, ServerCallContext context)
    {
        var caller = GatewayAuthorizer.Caller(context);
        var status = DefinedEnum(request.Status, "status", allowUnspecified: true);
        var clientId = OptionalId(request.ClientId, "client_id");
        var pool = OptionalId(request.ServerPool, "server_pool");
        var serverId = OptionalId(request.ServerId, "server_id");
        var sidecarId = OptionalId(request.SidecarId, "sidecar_id");
        if (request.PageSize is < 0 or > MaxPageSize) throw GatewayErrors.InvalidArgument("page_size", $"must be between 0 and {MaxPageSize}");
        var pageToken = PageTokens.Decode(request.PageToken, "page_token");
        var region = OptionalId(request.Region, "region");

        // Both regions' connections: ours, and our replicas of the peer's (which only operators and the peer see).
        bool? replicas = region is null ? null : region == Region ? false : true;
        if (region is not null && region != Region && region != peers.PeerRegion) return new ListConnectionsResponse();

        // A sidecar sees only its own connections, in its own region.
        if (!caller.SeesEverything)
        {
            if (sidecarId is not null)
                await auth.RequireAsync(context, GatewayPolicies.OwningSidecarOrOperator, sidecarId, "a sidecar lists only its own connections");
            if (replicas == true) await auth.RequirePolicyAsync(context, GatewayPolicies.OperatorOrPeer, "the other region's connections");
            sidecarId = caller.Subject;
            replicas = false;
        }

        var page = await cluster.GetGrain<IConnectionIndexGrain>(IConnectionIndexGrain.DefaultKey).List(new ConnectionQuery(
            status == ConnectionStatus.Unspecified ? null : status.FromProto(), clientId, pool, serverId,
            request.PageSize == 0 ? DefaultPageSize : request.PageSize, pageToken, sidecarId, replicas));

        var response = new ListConnectionsResponse { NextPageToken = PageTokens.Encode(page.NextPageToken) };
        response.Connections.AddRange(page.Items.Select(i => i.ToProto(Region)));
        if (replicas != false && link.IsDown && peerRedis.Configured)
        {
            bool Matches(Connection c) =>
                (status == ConnectionStatus.Unspecified || c.Status == status) && (clientId is null || c.ClientId == clientId)
                && (pool is null || c.ServerPool == pool) && (serverId is null || c.ServerId == serverId)
                && (sidecarId is null || c.SidecarId == sidecarId) && (region is null || c.Region == region);
            await CompleteFromPeerRedisAsync(response, Matches, context.CancellationToken);
        }
        return response;
    }

    /// <summary>
    /// The link is down: the peer's Redis replica may know newer versions of its connections than our replicas. A newer
    /// one replaces our copy on this page; one we hold no copy of at all is added on the last page. Both are marked
    /// with replica_read (when, from where, how old).
    /// </summary>
    private async Task CompleteFromPeerRedisAsync(ListConnectionsResponse response, Func<Connection, bool> matches, CancellationToken cancellationToken)
    {
        var read = (await peerRedis.ListAsync(cancellationToken)).ToDictionary(c => c.ConnectionId, StringComparer.Ordinal);
        if (read.Count == 0) return;
        for (var i = response.Connections.Count - 1; i >= 0; i--)
        {
            var listed = response.Connections[i];
            if (listed.Region == Region || !read.Remove(listed.ConnectionId, out var newer) || newer.Version <= listed.Version) continue;
            if (matches(newer)) response.Connections[i] = newer;
            else response.Connections.RemoveAt(i);
        }
        if (response.NextPageToken.Length > 0) return;
        foreach (var candidate in read.Values.Where(matches).OrderBy(c => c.ConnectionId, StringComparer.Ordinal))
        {
            if (await cluster.GetGrain<IPeerReplicaGrain>(candidate.ConnectionId).Get() is null) response.Connections.Add(candidate);
        }
    }

    [Authorize(Policy = GatewayPolicies.AnyContractRole)]
    public override async Task WatchConnections(WatchConnectionsRequest request, IServerStreamWriter<ConnectionEvent> responseStream, ServerCallContext context)
    {
        var caller = GatewayAuthorizer.Caller(context);
        var status = DefinedEnum(request.Status, "status", allowUnspecified: true);
        var clientId = OptionalId(request.ClientId, "client_id");
        var connectionId = OptionalId(request.ConnectionId, "connection_id");
        if (!caller.SeesEverything)
        {
            var owner = connectionId is null ? null : (await ConnectionGrain(connectionId).GetState()).SidecarId;
            await auth.RequireAsync(context, GatewayPolicies.OwningSidecarOrOperator, owner,
                connectionId is null ? "a sidecar may only watch one of its own connections (set connection_id)" : BelongsToAnother(connectionId));
        }

        var events = Channel.CreateBounded<ConnectionStatusChanged>(new BoundedChannelOptions(1024) { FullMode = BoundedChannelFullMode.DropOldest });
        var stream = cluster.GetStreamProvider(ControllerStreams.ProviderName).GetStream<ConnectionStatusChanged>(
            connectionId is null ? ControllerStreams.AllStatus : ControllerStreams.StatusOf(connectionId));
        var handle = await stream.SubscribeAsync((e, _) => events.Writer.WriteAsync(e).AsTask());
        try
        {
            // Headers tell the caller the subscription is in place.
            await context.WriteResponseHeadersAsync([]);
            await foreach (var e in events.Reader.ReadAllAsync(context.CancellationToken))
            {
                if (status != ConnectionStatus.Unspecified && e.To.ToProto() != status) continue;
                if (clientId is not null && e.ClientId != clientId) continue;
                await responseStream.WriteAsync(e.ToProto(Region));
            }
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            // The watcher went away.
        }
        finally
        {
            await handle.UnsubscribeAsync();
        }
    }
}
