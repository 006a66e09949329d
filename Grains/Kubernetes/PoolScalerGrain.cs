using System.Collections.Immutable;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;

namespace OrleansControl.Grains.Kubernetes;

/// <summary>
/// One per pool. The pool tells it (one-way) what the pool looks like; it decides (<see cref="ScalingDecision"/>) and
/// acts on Kubernetes in two lanes that run on the grain's scheduler outside any request, so signals keep arriving
/// while it waits: the scaling lane (at most one scale-up or scale-down in flight per pool, a scale-up waits with a
/// deadline for its pod to be Ready and registered) and the rotation lane (label patches, never behind a scale-up).
/// Soft state only: after a move to another silo it re-reads the pods and starts the scale-down delay again. Pools
/// not configured (or Kubernetes disabled) cost one message per pool change and a short-lived activation.
/// </summary>
public sealed partial class PoolScalerGrain(
    IOptions<KubernetesOptions> options,
    TimeProvider time,
    ILogger<PoolScalerGrain> logger,
    KubernetesMetrics metrics) : Grain, IPoolScalerGrain
{
    private const int EventsKept = 64;

    private readonly Queue<ScalingEvent> _events = new();
    private readonly CancellationTokenSource _stopping = new();
    private PoolScalingOptions? _pool;
    private IServerScaler _scaler = null!;
    private IPodRotation _rotation = null!;
    private IGrainTimer? _timer;
    private ImmutableArray<ServerInstance> _servers = [];
    private Task _scaling = Task.CompletedTask;
    private DateTimeOffset? _overNeedSince;
    private DateTimeOffset _scaleUpNotBefore;
    private DateTimeOffset _noTargetIgnoredUntil;
    private bool _atBoundReported;
    private bool _noTargetPending;

    private KubernetesOptions O => options.Value;

    private string PoolId => this.GetPrimaryKeyString();

    private DateTimeOffset Now => time.GetUtcNow();

    private IServerPoolGrain Pool => GrainFactory.GetGrain<IServerPoolGrain>(PoolId);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (O.Enabled && O.Pools.TryGetValue(PoolId, out var pool))
        {
            _pool = pool;
            _scaler = ServiceProvider.GetRequiredService<IServerScaler>();
            _rotation = ServiceProvider.GetRequiredService<IPodRotation>();
            // Keeps the activation (and so the scale-down delay and any wait in flight) alive between pool changes.
            _timer = this.RegisterGrainTimer(TickAsync, new GrainTimerCreationOptions(O.EvaluationInterval, O.EvaluationInterval) { KeepAlive = true });
        }
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _stopping.Cancel();
        _timer?.Dispose();
        return Task.CompletedTask;
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

    public Task<ImmutableArray<ScalingEvent>> GetEvents() => Task.FromResult(_events.ToImmutableArray());

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
            _overNeedSince = null;
            if (now >= _scaleUpNotBefore)
            {
                _scaling = ScaleUpAsync(_noTargetPending);
                _noTargetPending = false;
            }
            return;
        }
        if (ScalingDecision.ScaleDownVictim(_servers, pool) is not { } victim)
        {
            _overNeedSince = null;
            return;
        }
        _overNeedSince ??= now;
        if (now - _overNeedSince.Value >= O.ScaleDownDelay)
            _scaling = ScaleDownAsync(victim);
    }

    private void Event(ScalingAction action, ScalingOutcome outcome, string target, int? from, int? to, string detail)
    {
        var e = new ScalingEvent(PoolId, action, outcome, target, from, to, detail, Now);
        if (_events.Count == EventsKept)
            _events.Dequeue();
        _events.Enqueue(e);
        if (outcome is ScalingOutcome.Failed or ScalingOutcome.TimedOut or ScalingOutcome.AtBound)
            KubernetesLog.ActionFailed(logger, PoolId, action, outcome, target, from, to, detail);
        else
            KubernetesLog.Action(logger, PoolId, action, outcome, target, from, to, detail);
        metrics.Action(e);
    }
}
