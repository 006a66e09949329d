using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Errors;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.Grains.Projection;
using OrleansControl.Grains.Telemetry;

namespace OrleansControl.Grains.Connections;

/// <summary>
/// One connection: registration, the state machine and persistence (this file), heartbeats and timeout detection
/// (ConnectionGrain.Monitoring.cs), the failover coordinator (ConnectionGrain.Failover.cs), what the sidecar observes
/// of its link and how the registry follows it (ConnectionGrain.Evidence.cs), what a client's silence means
/// (ConnectionGrain.Silence.cs) and the client's DR standbys (ConnectionGrain.Standby.cs).
/// Not reentrant: calls, timer ticks and reminders run one at a time, so each transition is check-then-persist atomic.
/// </summary>
public sealed partial class ConnectionGrain(
    [PersistentState("connection", ControllerStorage.Name)] IPersistentState<ConnectionGrainState> state,
    IOptions<ConnectionHealthOptions> options,
    IConnectionProjection projection,
    ControllerMetrics metrics,
    TimeProvider time,
    ILogger<ConnectionGrain> logger) : Grain, IConnectionGrain, IRemindable
{
    /// <summary>Metadata keys under which the first round kept the owning sidecar and region (read once, then fields).</summary>
    private const string LegacySidecarKey = "oc.sidecar_id";
    private const string LegacyRegionKey = "oc.region";

    private readonly ConnectionHealthOptions _options = options.Value;

    private string Id => this.GetPrimaryKeyString();

    private ConnectionGrainState S => state.State;

    private DateTimeOffset Now => time.GetUtcNow();

    private bool IsRegistered => S.Status != ConnectionStatus.None;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _activatedAt = Now;
        _lastPersist = _activatedAt;
        if (!IsRegistered)
        {
            // Nothing stored: a row listed before now is from a registration the store lost (Redis restarted empty).
            return GrainFactory.GetGrain<IConnectionIndexGrain>(IConnectionIndexGrain.DefaultKey).Forget(Id, _activatedAt);
        }
        Log.Activated(logger, Id, RuntimeIdentity, S.Status, S.Version);
        LiftLegacyOwner();
        LiftLegacyOutbox();
        WarmReplica();
        metrics.StatusEntered(S.Status);
        EnsureTimer();
        ScheduleWakeup();
        return UpsertIndexAsync(_activatedAt);
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (!IsRegistered)
            return;
        Log.Deactivated(logger, Id, RuntimeIdentity, reason.ReasonCode, reason.Description, S.Status, S.Version);
        metrics.StatusLeft(S.Status);
        if (_heartbeatDirty)
        {
            try { await state.WriteStateAsync(cancellationToken); }
            catch (Exception ex) { Log.PersistFailed(logger, ex, Id); }
        }
    }

    public async Task<ConnectionSnapshot> Register(ConnectionRegistration registration)
    {
        if (string.IsNullOrWhiteSpace(registration.ClientId)) throw new InvalidRequestException("client_id", "must not be empty");
        if (string.IsNullOrWhiteSpace(registration.ServerPool)) throw new InvalidRequestException("server_pool", "must not be empty");
        if (registration.Standby)
            return await RegisterStandbyAsync(registration);

        if (IsRegistered)
        {
            if (S.Status == ConnectionStatus.Closed)
                throw new IllegalTransitionException(Id, S.Status, ConnectionStatus.Requested, "a closed connection id cannot be registered again");
            if (S.ClientId != registration.ClientId)
                throw new ConnectionAlreadyExistsException(Id, S.ClientId);
            if (S.SidecarId is null && registration.SidecarId is not null)
                await AdoptSidecarAsync(registration.SidecarId);
            await EnsureBackstopAsync();
            return Snapshot();
        }

        var pool = GrainFactory.GetGrain<IServerPoolGrain>(registration.ServerPool);
        var assignment = await pool.Assign(new AssignmentRequest(Id, registration.ClientId, registration.PreferredServer));
        var now = Now;
        S.ClientId = registration.ClientId;
        S.ServerPool = registration.ServerPool;
        S.ServerId = assignment.ServerId;
        S.ServerAddress = assignment.Address;
        S.FailoverTarget = assignment.FailoverTarget;
        S.SidecarId = registration.SidecarId;
        S.Region = registration.Region;
        S.RegisteredAt = now;
        S.Incarnation = ConnectionIncarnation.New(now);
        S.MonitoredSince = now;
        S.HealthScore = 100;
        S.Metadata = registration.Metadata is null ? [] : new Dictionary<string, string>(registration.Metadata);
        await TransitionAsync(ConnectionStatus.Requested, "registered", $"assigned {assignment.ServerId}; waiting for the sidecar to sign on");
        await EnsureBackstopAsync();
        WarmReplica();
        return Snapshot();
    }

    public async Task<ConnectionSnapshot> ReportHealth(HealthReport report)
    {
        EnsureRegistered();
        var target = report.Health == ReportedHealth.Degraded ? ConnectionStatus.Degraded : ConnectionStatus.Active;
        if (S.Status == target)
            return Snapshot();
        if (S.Status is not (ConnectionStatus.Active or ConnectionStatus.Degraded))
            throw new IllegalTransitionException(Id, S.Status, target, "health reports apply to active or degraded connections");
        await TransitionAsync(target, $"reported: {report.Reason}");
        return Snapshot();
    }

    public async Task<ConnectionSnapshot> TransitionTo(ConnectionStatus target, long expectedVersion, string reason)
    {
        EnsureRegistered();
        if (expectedVersion != S.Version)
            throw new VersionConflictException(Id, expectedVersion, S.Version);
        if (target == ConnectionStatus.Migrating)
            throw new IllegalTransitionException(Id, S.Status, target, "only a failover enters Migrating; use RequestFailover");
        if (target == ConnectionStatus.Unknown)
            throw new IllegalTransitionException(Id, S.Status, target, "Unknown is entered when a detached sidecar goes silent, not by hand");
        if (target == ConnectionStatus.Active && S.Status != ConnectionStatus.Degraded)
            throw new IllegalTransitionException(Id, S.Status, target, "Active is entered when the sidecar reports it signed on, not by hand");

        await TransitionAsync(target, $"operator: {reason}");
        if (target == ConnectionStatus.Closed)
            await OnClosedAsync();
        return Snapshot();
    }

    public Task<ConnectionSnapshot> GetState()
    {
        EnsureRegistered();
        return Task.FromResult(Snapshot());
    }

    /// <summary>
    /// The only way the status changes: legal-only, version +1, history, persisted before anything else.
    /// <paramref name="detail"/> replaces the status detail (why it is in this status, shown in the registry).
    /// </summary>
    private async Task TransitionAsync(ConnectionStatus to, string reason, string detail = "")
    {
        var from = S.Status;
        if (!ConnectionTransitions.IsLegal(from, to))
            throw new IllegalTransitionException(Id, from, to);

        var now = Now;
        S.Status = to;
        S.StatusDetail = detail;
        S.Version++;
        S.Transitions.Add(new ConnectionTransition(from, to, S.Version, now, reason));
        Trim(S.Transitions);
        if (ConnectionTransitions.IsMonitored(to) && !ConnectionTransitions.IsMonitored(from))
            S.MonitoredSince = now;

        QueueStatusEvent(from, to, reason, now);
        await PersistAsync(now);
        if (from != ConnectionStatus.None) metrics.StatusLeft(from);
        metrics.StatusEntered(to);
        Log.Transition(logger, Id, from, to, S.Version, reason);
        if (ConnectionTransitions.IsMonitored(to)) EnsureTimer();
        else StopTimer();
        await PublishPendingEventsAsync();
        await ProjectAsync(now);
        if (to == ConnectionStatus.Active)
            await SendBackupsAsync();
    }

    /// <summary>A change of what the registry says without a status change (where the link is): version +1, an event.</summary>
    private async Task RecordChangeAsync(string reason)
    {
        var now = Now;
        S.Version++;
        QueueStatusEvent(S.Status, S.Status, reason, now);
        await PersistAsync(now);
        await PublishPendingEventsAsync();
        await ProjectAsync(now);
    }

    private async Task PersistAsync(DateTimeOffset now)
    {
        try
        {
            await state.WriteStateAsync();
        }
        catch (Exception ex)
        {
            // Memory is ahead of storage now; drop this activation so the next call reloads the persisted truth.
            Log.PersistFailed(logger, ex, Id);
            DeactivateOnIdle();
            throw;
        }
        _lastPersist = now;
        _heartbeatDirty = false;
    }

    private async Task OnClosedAsync()
    {
        StopTimer();
        S.Move = null;
        S.WaitingForTarget = null;
        _heartbeatDirty = true;
        ScheduleWakeup(); // only events still to publish keep it

        await GrainFactory.GetGrain<IServerPoolGrain>(S.ServerPool).Release(Id);
        var reminder = await this.GetReminder(BackstopReminder);
        if (reminder is not null)
            await this.UnregisterReminder(reminder);
    }

    private async Task AdoptSidecarAsync(string sidecarId)
    {
        S.SidecarId = sidecarId;
        await RecordChangeAsync($"carried by sidecar {sidecarId}");
        // A move that was waiting for somebody to carry it can start now.
        if (S.Move is { CommandQueued: false })
            await QueueMoveCommandAsync();
    }

    private void LiftLegacyOwner()
    {
        if (S.SidecarId is null && S.Metadata.Remove(LegacySidecarKey, out var sidecar)) S.SidecarId = sidecar;
        if (S.Region is null && S.Metadata.Remove(LegacyRegionKey, out var region)) S.Region = region;
    }

    private void EnsureRegistered()
    {
        if (!IsRegistered)
            throw new ConnectionNotFoundException(Id);
    }

    private void Trim<T>(List<T> list)
    {
        if (list.Count > _options.HistoryLength)
            list.RemoveRange(0, list.Count - _options.HistoryLength);
    }

    private ConnectionSnapshot Snapshot() => new(
        Id, S.ClientId, S.ServerPool, S.ServerId, S.ServerAddress, S.Status, S.LastHeartbeat, S.HealthScore,
        S.FailoverTarget, S.Version, [.. S.Transitions], [.. S.Failovers], S.LastEchoRttMs, S.RegisteredAt,
        S.Metadata.ToImmutableDictionary(), S.SidecarId, S.Region, S.StatusDetail, S.LastLink, RuntimeIdentity, _activatedAt,
        TransactionsPerSecond(), S.Incarnation, [.. S.Standbys], S.Activation);
}
