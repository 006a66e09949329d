using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Errors;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.GrainInterfaces.Streams;
using OrleansControl.Grains.Kubernetes;
using OrleansControl.Grains.Telemetry;

namespace OrleansControl.Grains.Pools;

/// <summary>
/// Not reentrant on purpose: each Assign/ReserveFailoverTarget checks capacity, reserves and persists in one turn, so
/// concurrent requests are serialised and a server is never assigned beyond its capacity. Only GetSnapshot
/// interleaves (read-only). Server health is what operators declare plus what connections prove
/// (<see cref="OutlierDetection"/>): evidence of failure ejects a server, a sign-on there reinstates it.
/// </summary>
public sealed partial class ServerPoolGrain(
    [PersistentState("pool", ControllerStorage.Name)] IPersistentState<ServerPoolState> state,
    IOptions<ServerEjectionOptions> ejection,
    TimeProvider time,
    ILogger<ServerPoolGrain> logger,
    ControllerMetrics metrics,
    Projection.IServerPoolProjection projection) : Grain, IServerPoolGrain
{
    /// <summary>Derived from <see cref="ServerPoolState.Assignments"/> (rebuilt on activation, kept by <see cref="Reserve"/>/<see cref="Unreserve"/>).</summary>
    private readonly Dictionary<string, int> _load = [];
    /// <summary>Connections that found no failover target; told when a server becomes usable (soft state: they also retry).</summary>
    private readonly HashSet<string> _waiting = new(StringComparer.Ordinal);
    private IGrainTimer? _reinstateTimer;

    private string PoolId => this.GetPrimaryKeyString();

    private DateTimeOffset Now => time.GetUtcNow();

    private ServerPoolState S => state.State;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _load.Clear();
        foreach (var serverId in S.Assignments.Values)
            _load[serverId] = ServerSelection.LoadOf(serverId, _load) + 1;
        ScheduleReinstatement();
        SignalScaler(noTarget: false);
        if (S.Servers.Count > 0) await ProjectAsync(); // a new activation writes the whole pool (and drops what it lost)
    }

    public async Task<ServerInstance> AddOrUpdateServer(ServerDefinition server)
    {
        if (string.IsNullOrWhiteSpace(server.ServerId)) throw new InvalidRequestException("server_id", "must not be empty");
        if (string.IsNullOrWhiteSpace(server.Address)) throw new InvalidRequestException("address", "must not be empty");
        if (server.Capacity < 0) throw new InvalidRequestException("capacity", "must not be negative");

        S.Servers.TryGetValue(server.ServerId, out var previous);
        S.Servers[server.ServerId] = server with { Zone = server.Zone ?? "" };
        await PersistOrRevert(() => Restore(server.ServerId, previous));
        Log.ServerUpdated(logger, PoolId, server.ServerId, server.Health, server.Zone ?? "", server.Capacity);
        if (previous is null || previous.Health != server.Health)
            await PublishHealthAsync(server.ServerId, previous is null ? "added" : "declared");
        if (server.Health == ServerHealth.Healthy) NotifyWaiting();
        if (previous != server) NotifyTopologyChanged();
        return ToInstance(S.Servers[server.ServerId]);
    }

    public async Task<ServerInstance> RegisterServer(ServerDefinition server, string sidecarId)
    {
        var declared = S.Servers.TryGetValue(server.ServerId ?? "", out var known)
            ? known with { Address = server.Address, Zone = server.Zone ?? "", Capacity = server.Capacity }
            : server with { Health = ServerHealth.Healthy };
        if (declared == known) return ToInstance(known);
        var instance = await AddOrUpdateServer(declared);
        Log.ServerRegisteredBySidecar(logger, PoolId, instance.ServerId, sidecarId, instance.Address, instance.Zone, instance.Capacity);
        return instance;
    }

    public async Task<ServerInstance> SetServerHealth(string serverId, ServerHealth health)
    {
        var previous = Find(serverId);
        S.Servers[serverId] = previous with { Health = health };
        var evidence = S.Evidence.GetValueOrDefault(serverId);
        var wasEjected = evidence?.EjectedUntil;
        if (health == ServerHealth.Healthy && evidence is not null) evidence.EjectedUntil = null; // an operator's word ends an ejection
        await PersistOrRevert(() =>
        {
            Restore(serverId, previous);
            if (evidence is not null) evidence.EjectedUntil = wasEjected;
        });
        Log.ServerUpdated(logger, PoolId, serverId, health, previous.Zone, previous.Capacity);
        await PublishHealthAsync(serverId, "declared");
        if (health == ServerHealth.Unhealthy && previous.Health != ServerHealth.Unhealthy)
            Evacuate(serverId, $"server {serverId} unhealthy");
        if (health == ServerHealth.Healthy) NotifyWaiting();
        // An operator's Healthy that ends an ejection changes what is usable as much as a change of health does.
        if (health != previous.Health || (health == ServerHealth.Healthy && wasEjected is not null)) NotifyTopologyChanged();
        return ToInstance(S.Servers[serverId]);
    }

    public async Task RemoveServer(string serverId)
    {
        var previous = Find(serverId);
        S.Servers.Remove(serverId);
        await PersistOrRevert(() => Restore(serverId, previous));
        Log.ServerRemoved(logger, PoolId, serverId);
        Evacuate(serverId, $"server {serverId} removed");
        NotifyTopologyChanged();
    }

    /// <summary>
    /// Asks every connection on the server to fail over (conditional on that server, so connections that already
    /// moved ignore it). Not awaited: each connection calls back into this pool for its target, which would
    /// deadlock a non-reentrant grain waiting on it; failures are logged.
    /// </summary>
    private void Evacuate(string serverId, string reason)
    {
        var key = $"evacuate:{serverId}:{Now.UtcTicks}";
        foreach (var connectionId in S.Assignments.Where(a => a.Value == serverId && !S.PeerOwned.Contains(a.Key)).Select(a => a.Key).ToList())
        {
            var request = new FailoverRequest(reason, key, FailedServerId: serverId);
            _ = GrainFactory.GetGrain<IConnectionGrain>(connectionId).RequestFailover(request).ContinueWith(
                t => Log.EvacuationFailed(logger, t.Exception!.GetBaseException(), PoolId, connectionId),
                CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Current);
        }
    }

    public async Task<ServerAssignment> Assign(AssignmentRequest request)
    {
        if (string.IsNullOrWhiteSpace(request.ConnectionId)) throw new InvalidRequestException("connection_id", "must not be empty");

        if (S.Assignments.TryGetValue(request.ConnectionId, out var existing) && S.Servers.TryGetValue(existing, out var assigned))
            return ToAssignment(assigned);

        var server = ServerSelection.PickForAssignment(S.Servers, _load, request.PreferredServer, Ejected())
            ?? throw new PoolCapacityExceededException(PoolId, UsableCapacity(), _load.Values.Sum());

        var undo = Reserve(request.ConnectionId, server.ServerId);
        await PersistOrRevert(undo);
        return ToAssignment(server);
    }

    public async Task Release(string connectionId)
    {
        if (!S.Assignments.TryGetValue(connectionId, out var serverId))
            return;
        Unreserve(connectionId, serverId);
        await PersistOrRevert(() => Reserve(connectionId, serverId));
    }

    public async Task<ServerAssignment?> ReserveFailoverTarget(FailoverTargetRequest request)
    {
        var excluded = request.Excluded.IsDefault ? [] : request.Excluded;
        var target = ServerSelection.PickFailoverTarget(S.Servers, _load, request.CurrentServerId, request.PreferredTarget, Ejected(), excluded);
        if (target is null)
        {
            _waiting.Add(request.ConnectionId);
            SignalScaler(noTarget: true);
            return null;
        }
        _waiting.Remove(request.ConnectionId);
        await MoveReservation(request.ConnectionId, target.ServerId);
        return ToAssignment(target);
    }

    public async Task ReportServerFailure(ServerFailureReport report)
    {
        if (!S.Servers.ContainsKey(report.ServerId))
            return;
        var now = Now;
        var evidence = S.Evidence.TryGetValue(report.ServerId, out var e) ? e : S.Evidence[report.ServerId] = new ServerEvidence();
        var ejectFor = OutlierDetection.RecordFailure(evidence, now, ejection.Value);
        if (ejectFor is { } length)
        {
            if (OutlierDetection.CapReached(S.Servers, S.Evidence, now, ejection.Value) is { } limit)
            {
                Log.EjectionCapped(logger, PoolId, report.ServerId, report.Reason, limit);
                ejectFor = null;
            }
            else
            {
                evidence.EjectedUntil = now + length;
                evidence.Ejections++;
                evidence.Why = report.Reason;
                evidence.Failures.Clear();
            }
        }
        await PersistAsync();
        if (ejectFor is not null)
        {
            Log.ServerEjected(logger, PoolId, report.ServerId, evidence.EjectedUntil!.Value, report.Reason);
            metrics.ServerEjected();
            await PublishHealthAsync(report.ServerId, $"ejected: {report.Reason}");
            ScheduleReinstatement();
            NotifyTopologyChanged();
        }
    }

    public async Task<ServerAssignment?> ConfirmSignedOn(string connectionId, string serverAddress)
    {
        var server = S.Servers.Values.FirstOrDefault(s => string.Equals(s.Address, serverAddress, StringComparison.OrdinalIgnoreCase));
        if (server is null)
            return null;
        var reinstated = S.Evidence.Remove(server.ServerId, out var evidence) && OutlierDetection.IsEjected(evidence, Now);
        var overCapacity = false;
        if (S.Assignments.GetValueOrDefault(connectionId) != server.ServerId)
        {
            await MoveReservation(connectionId, server.ServerId);
            // The link is there, so the reservation follows it even past capacity (a provisional choice from a silo's
            // replica in the death window, or the sidecar's own move): said, counted, and left to the caller to move.
            overCapacity = ServerSelection.LoadOf(server.ServerId, _load) > server.Capacity;
            if (overCapacity)
            {
                LogOverCapacity(PoolId, server.ServerId, ServerSelection.LoadOf(server.ServerId, _load), server.Capacity, connectionId);
                metrics.OverCapacity();
            }
        }
        else if (evidence is not null)
            await PersistAsync();
        if (reinstated)
        {
            Log.ServerReinstated(logger, PoolId, server.ServerId, $"connection {connectionId} signed on there");
            await PublishHealthAsync(server.ServerId, $"reinstated: connection {connectionId} signed on");
            NotifyWaiting();
            NotifyTopologyChanged();
        }
        return ToAssignment(server) with { OverCapacity = overCapacity };
    }

    public async Task<int> ReconcileAssignments(ImmutableArray<AssignmentFact> facts)
    {
        var undo = new List<Action>();
        var changed = 0;
        foreach (var fact in facts.IsDefault ? [] : facts)
        {
            if (string.IsNullOrWhiteSpace(fact.ConnectionId)) continue;
            var held = S.Assignments.GetValueOrDefault(fact.ConnectionId);
            var marked = fact.ServerId is null ? S.PeerOwned.Remove(fact.ConnectionId) : S.PeerOwned.Add(fact.ConnectionId);
            if (marked) undo.Add(() => { if (fact.ServerId is null) S.PeerOwned.Add(fact.ConnectionId); else S.PeerOwned.Remove(fact.ConnectionId); });
            if (held == fact.ServerId) continue;
            changed++;
            if (fact.ServerId is null)
            {
                Unreserve(fact.ConnectionId, held!);
                undo.Add(() => Reserve(fact.ConnectionId, held!));
            }
            else
            {
                undo.Add(Reserve(fact.ConnectionId, fact.ServerId));
            }
        }
        if (undo.Count == 0) return 0;
        await PersistOrRevert(() =>
        {
            for (var i = undo.Count - 1; i >= 0; i--) undo[i]();
        });
        if (changed > 0) Log.AssignmentsReconciled(logger, PoolId, changed);
        return changed;
    }

    public Task<ImmutableArray<BackupServer>> RankBackups(string? currentServerId, int count) =>
        Task.FromResult(ServerSelection.RankFailoverTargets(S.Servers, _load, currentServerId, Ejected())
            .Take(Math.Clamp(count, 0, 16)).Select(s => new BackupServer(s.ServerId, s.Address, s.Zone)).ToImmutableArray());

    public Task<ServerPoolSnapshot> GetSnapshot()
    {
        var servers = S.Servers.Values.OrderBy(s => s.ServerId, StringComparer.Ordinal).Select(ToInstance).ToImmutableArray();
        return Task.FromResult(new ServerPoolSnapshot(PoolId, servers, servers.Sum(s => s.Capacity), servers.Sum(s => s.Load)));
    }

    private async Task MoveReservation(string connectionId, string serverId)
    {
        var previous = S.Assignments.GetValueOrDefault(connectionId);
        if (previous is not null)
            Unreserve(connectionId, previous);
        Reserve(connectionId, serverId);
        await PersistOrRevert(() =>
        {
            Unreserve(connectionId, serverId);
            if (previous is not null) Reserve(connectionId, previous);
        });
    }

    /// <summary>Ejections end on their own: at the earliest end, reinstate and tell waiting connections.</summary>
    private void ScheduleReinstatement()
    {
        var next = S.Evidence.Values.Where(e => e.EjectedUntil is not null).Min(e => e.EjectedUntil);
        if (next is null)
        {
            _reinstateTimer?.Dispose();
            _reinstateTimer = null;
            return;
        }
        var due = next.Value - Now + TimeSpan.FromMilliseconds(10);
        if (due < TimeSpan.FromMilliseconds(10)) due = TimeSpan.FromMilliseconds(10);
        if (_reinstateTimer is null)
            _reinstateTimer = this.RegisterGrainTimer(ReinstateExpiredAsync, new GrainTimerCreationOptions(due, Timeout.InfiniteTimeSpan) { KeepAlive = true });
        else
            _reinstateTimer.Change(due, Timeout.InfiniteTimeSpan);
    }

    private async Task ReinstateExpiredAsync(CancellationToken cancellationToken)
    {
        var now = Now;
        var expired = S.Evidence.Where(e => e.Value.EjectedUntil is { } until && until <= now).Select(e => e.Key).ToList();
        foreach (var serverId in expired)
        {
            S.Evidence[serverId].EjectedUntil = null; // the ejection count stays: a repeat ejects for longer
            Log.ServerReinstated(logger, PoolId, serverId, "ejection time over");
        }
        if (expired.Count > 0)
        {
            await PersistAsync(cancellationToken);
            foreach (var serverId in expired) await PublishHealthAsync(serverId, "reinstated: ejection time over");
            NotifyWaiting();
            NotifyTopologyChanged();
        }
        ScheduleReinstatement();
    }

    /// <summary>One-way: the connections call back into this (non-reentrant) pool for their target.</summary>
    private void NotifyWaiting()
    {
        foreach (var connectionId in _waiting)
            _ = GrainFactory.GetGrain<IConnectionGrain>(connectionId).TargetsChanged();
        _waiting.Clear();
    }

    /// <summary>One-way to every connection of the pool: their sidecars' backups are recomputed (not on load changes).</summary>
    private void NotifyTopologyChanged()
    {
        foreach (var connectionId in S.Assignments.Keys.Where(id => !S.PeerOwned.Contains(id)))
            _ = GrainFactory.GetGrain<IConnectionGrain>(connectionId).PoolChanged();
        SignalScaler(noTarget: false);
    }

    /// <summary>One-way to the pool's Kubernetes scaler (Grains/Kubernetes): it decides and waits; the pool never does.</summary>
    private void SignalScaler(bool noTarget) =>
        _ = GrainFactory.GetGrain<IPoolScalerGrain>(PoolId).PoolChanged(new PoolObservation([.. S.Servers.Values.Select(ToInstance)], noTarget));

    private async Task PublishHealthAsync(string serverId, string reason)
    {
        if (!S.Servers.TryGetValue(serverId, out var server)) return;
        var evidence = S.Evidence.GetValueOrDefault(serverId);
        var suspect = OutlierDetection.IsEjected(evidence, Now);
        try
        {
            await this.GetStreamProvider(ControllerStreams.ProviderName).GetStream<ServerHealthChanged>(ControllerStreams.ServerHealthOf(PoolId))
                .OnNextAsync(new ServerHealthChanged(PoolId, serverId, server.Health, suspect, suspect ? evidence!.EjectedUntil : null, reason, Now));
        }
        catch (Exception ex)
        {
            LogPublishFailed(ex, PoolId);
        }
    }

    private HashSet<string> Ejected()
    {
        var now = Now;
        return S.Evidence.Where(e => OutlierDetection.IsEjected(e.Value, now)).Select(e => e.Key).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>Reserves a slot on <paramref name="serverId"/>, freeing the one the connection held elsewhere (the undo restores it).</summary>
    private Action Reserve(string connectionId, string serverId)
    {
        var previous = S.Assignments.GetValueOrDefault(connectionId);
        if (previous == serverId) return () => { };
        if (previous is not null) Unreserve(connectionId, previous);
        S.Assignments[connectionId] = serverId;
        _load[serverId] = ServerSelection.LoadOf(serverId, _load) + 1;
        return () =>
        {
            Unreserve(connectionId, serverId);
            if (previous is not null) Reserve(connectionId, previous);
        };
    }

    private void Unreserve(string connectionId, string serverId)
    {
        S.Assignments.Remove(connectionId);
        _load[serverId] = Math.Max(0, ServerSelection.LoadOf(serverId, _load) - 1);
    }

    private void Restore(string serverId, ServerDefinition? previous)
    {
        if (previous is null) S.Servers.Remove(serverId);
        else S.Servers[serverId] = previous;
    }

    /// <summary>Persist-before-ack; on a storage error the in-memory change is undone so memory never runs ahead of storage.</summary>
    private async Task PersistOrRevert(Action undo)
    {
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            undo();
            throw;
        }
        await ProjectAsync();
    }

    /// <summary>A state write that has nothing to undo, then the projection.</summary>
    private async Task PersistAsync(CancellationToken cancellationToken = default)
    {
        await state.WriteStateAsync(cancellationToken);
        await ProjectAsync();
    }

    private ServerDefinition Find(string serverId) =>
        S.Servers.TryGetValue(serverId, out var s) ? s : throw new ServerNotFoundException(PoolId, serverId);

    private int UsableCapacity()
    {
        var ejected = Ejected();
        return S.Servers.Values.Where(s => s.Health == ServerHealth.Healthy && !ejected.Contains(s.ServerId)).Sum(s => s.Capacity);
    }

    private ServerInstance ToInstance(ServerDefinition s)
    {
        var evidence = S.Evidence.GetValueOrDefault(s.ServerId);
        var suspect = OutlierDetection.IsEjected(evidence, Now);
        return new(s.ServerId, s.Address, s.Zone, s.Capacity, ServerSelection.LoadOf(s.ServerId, _load), s.Health,
            suspect, suspect ? evidence!.EjectedUntil : null, suspect ? evidence!.Why : "");
    }

    private ServerAssignment ToAssignment(ServerDefinition s) =>
        new(PoolId, s.ServerId, s.Address, s.Zone,
            ServerSelection.PickFailoverTarget(S.Servers, _load, s.ServerId, null, Ejected())?.ServerId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pool {PoolId}: server {ServerId} over capacity ({Load}/{Capacity}): connection {ConnectionId} signed on there")]
    private partial void LogOverCapacity(string poolId, string serverId, int load, int capacity, string connectionId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pool {PoolId}: server health event publish failed")]
    private partial void LogPublishFailed(Exception exception, string poolId);
}
