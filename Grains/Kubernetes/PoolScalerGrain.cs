using System.Collections.Immutable;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;

namespace OrleansControl.Grains.Kubernetes;

/// <summary>
/// One per pool. The pool tells it (one-way) what the pool looks like; it decides (<see cref="ScalingDecision"/>) and
/// acts on Kubernetes in two lanes that run on the grain's scheduler outside any request, so signals keep arriving
/// while it waits: the scaling lane (at most one scale-up or scale-down in flight per pool, a scale-up waits with a
/// deadline for its pod to be Ready and registered) and the rotation lane (label patches, never behind a scale-up).
/// The scaling lane is persistent (<see cref="PoolScalerState"/>): after its silo is lost a new activation finishes
/// the action in flight within its original deadline and keeps the scale-down delay where it was; a reminder brings
/// it back while there is such work, when nothing else calls it. Rotation labels are re-read from the pods. Pools not
/// configured (or Kubernetes disabled) cost one message per pool change and a short-lived activation.
/// </summary>
public sealed partial class PoolScalerGrain(
    [PersistentState("poolScaler", ControllerStorage.Name)] IPersistentState<PoolScalerState> state,
    IOptions<KubernetesOptions> options,
    IOptions<ReminderOptions> reminderOptions,
    TimeProvider time,
    ILogger<PoolScalerGrain> logger,
    KubernetesMetrics metrics) : Grain, IPoolScalerGrain, IRemindable
{
    private const int EventsKept = 64;
    private const string ResumeReminder = "scaler-resume";

    private readonly CancellationTokenSource _stopping = new();
    private PoolScalingOptions? _pool;
    private IServerScaler _scaler = null!;
    private IPodRotation _rotation = null!;
    private IGrainTimer? _timer;
    private ImmutableArray<ServerInstance> _servers = [];
    private Task _scaling = Task.CompletedTask;
    private Task _saving = Task.CompletedTask;
    private IGrainReminder? _reminder;
    private DateTimeOffset _noTargetIgnoredUntil;
    private bool _atBoundReported;
    private bool _noTargetPending;

    private KubernetesOptions O => options.Value;

    private PoolScalerState S => state.State;

    private string PoolId => this.GetPrimaryKeyString();

    private DateTimeOffset Now => time.GetUtcNow();

    private IServerPoolGrain Pool => GrainFactory.GetGrain<IServerPoolGrain>(PoolId);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (!O.Enabled || !O.Pools.TryGetValue(PoolId, out var pool))
            return;
        _pool = pool;
        _scaler = ServiceProvider.GetRequiredService<IServerScaler>();
        _rotation = ServiceProvider.GetRequiredService<IPodRotation>();
        _reminder = await this.GetReminder(ResumeReminder);
        // Keeps the activation (and so the scale-down delay and any wait in flight) alive between pool changes.
        _timer = this.RegisterGrainTimer(TickAsync, new GrainTimerCreationOptions(O.EvaluationInterval, O.EvaluationInterval) { KeepAlive = true });
        // An action the previous activation had in flight (its silo was lost or stopped): finish it, do not start another.
        if (S.ScaleUp is { } up)
            _scaling = ScaleUpAsync(noTarget: false, resume: up);
        else if (S.ScaleDown is { } down)
            _scaling = ScaleDownAsync(null, resume: down);
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _stopping.Cancel();
        _timer?.Dispose();
        await _saving;
    }

    public Task PoolChanged(PoolObservation observation)
    {
        if (_pool is null)
        {
            DeactivateOnIdle();
            return Task.CompletedTask;
        }
        _servers = observation.Servers.IsDefault ? [] : observation.Servers;
        Evaluate(observation.NoTarget);
        return Task.CompletedTask;
    }

    public Task<ImmutableArray<ScalingEvent>> GetEvents() => Task.FromResult(S.Events.ToImmutableArray());

    public Task<ScalerStatus> GetStatus() => Task.FromResult(new ScalerStatus(
        S.ScaleUp is { } up ? $"scale-up {up.From} -> {up.To}" : S.ScaleDown is { } down ? $"scale-down of {down.ServerId}" : null,
        S.OverNeedSince, S.ScaleUpNotBefore));

    /// <summary>Only wakes the grain after its silo was lost (activation resumes the work); an idle one stops it.</summary>
    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (_pool is null || !S.HasWork)
        {
            if (await this.GetReminder(reminderName) is { } reminder)
                await this.UnregisterReminder(reminder);
            _reminder = null;
            return;
        }
        await TickAsync(CancellationToken.None);
    }

    /// <summary>Load changes do not signal: the timer reads the pool itself, for the scale-down delay and lost signals.</summary>
    private async Task TickAsync(CancellationToken cancellationToken)
    {
        try
        {
            _servers = (await Pool.GetSnapshot()).Servers;
        }
        catch (Exception ex)
        {
            KubernetesLog.SyncFailed(logger, ex, PoolId);
            return;
        }
        Evaluate(noTarget: false);
    }

    private void Evaluate(bool noTarget)
    {
        var pool = _pool!;
        var now = Now;
        StartRotation();
        // Kept until acted on: it may arrive while an action is in flight (the next evaluation, at the latest the
        // timer's, takes it up); ignored for a while after a scale-up, while waiting connections try the new server.
        if (noTarget && now >= _noTargetIgnoredUntil)
            _noTargetPending = true;
        if (!_scaling.IsCompleted)
            return; // one scaling action in flight per pool
        var usable = ScalingDecision.Usable(_servers);
        if (usable < pool.Min || _noTargetPending)
        {
            SetOverNeedSince(null);
            if (now >= S.ScaleUpNotBefore)
            {
                _scaling = ScaleUpAsync(_noTargetPending, resume: null);
                _noTargetPending = false;
            }
            return;
        }
        if (ScalingDecision.ScaleDownVictim(_servers, pool) is not { } victim)
        {
            SetOverNeedSince(null);
            return;
        }
        if (S.OverNeedSince is null)
            SetOverNeedSince(now);
        if (now - S.OverNeedSince!.Value >= O.ScaleDownDelay)
            _scaling = ScaleDownAsync(victim, resume: null);
    }

    private void SetOverNeedSince(DateTimeOffset? since)
    {
        if (S.OverNeedSince == since)
            return;
        S.OverNeedSince = since;
        Save();
    }

    private void Event(ScalingAction action, ScalingOutcome outcome, string target, int? from, int? to, string detail)
    {
        var e = new ScalingEvent(PoolId, action, outcome, target, from, to, detail, Now);
        if (S.Events.Count >= EventsKept)
            S.Events.RemoveRange(0, S.Events.Count - EventsKept + 1);
        S.Events.Add(e);
        Save();
        if (outcome is ScalingOutcome.Failed or ScalingOutcome.TimedOut or ScalingOutcome.AtBound)
            KubernetesLog.ActionFailed(logger, PoolId, action, outcome, target, from, to, detail);
        else
            KubernetesLog.Action(logger, PoolId, action, outcome, target, from, to, detail);
        metrics.Action(e);
    }

    /// <summary>Writes the state after any write already under way (one at a time); never throws.</summary>
    private void Save() => _saving = SaveAfterAsync(_saving);

    /// <summary>As <see cref="Save"/>, and waits until this state is stored.</summary>
    private Task SaveAsync()
    {
        Save();
        return _saving;
    }

    private async Task SaveAfterAsync(Task previous)
    {
        await previous;
        try
        {
            await state.WriteStateAsync();
            await KeepReminderAsync();
        }
        catch (Exception ex)
        {
            KubernetesLog.StateNotSaved(logger, ex, PoolId);
        }
    }

    /// <summary>A reminder exactly while there is scaling work a lost silo would otherwise drop.</summary>
    private async Task KeepReminderAsync()
    {
        if (S.HasWork && _reminder is null)
        {
            var period = O.EvaluationInterval > reminderOptions.Value.MinimumReminderPeriod ? O.EvaluationInterval : reminderOptions.Value.MinimumReminderPeriod;
            _reminder = await this.RegisterOrUpdateReminder(ResumeReminder, period, period);
        }
        else if (!S.HasWork && _reminder is { } reminder)
        {
            _reminder = null;
            await this.UnregisterReminder(reminder);
        }
    }
}
