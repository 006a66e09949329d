using System.Diagnostics;
using OrleansControl.GrainInterfaces.Models;

namespace OrleansControl.Grains.Kubernetes;

/// <summary>
/// The actions. Each ends in exactly one event (log and metric) and never throws: an API error is an event, and the
/// failover it was meant to help goes on without it (its connections keep retrying, with the targets the pool has).
/// </summary>
public sealed partial class PoolScalerGrain
{
    private readonly Dictionary<string, bool> _labelled = new(StringComparer.Ordinal);
    private IReadOnlyList<ServerPod> _pods = [];
    private Task _rotating = Task.CompletedTask;
    private bool _rotationDirty;
    private bool _synced;

    private async Task ScaleUpAsync(bool noTarget)
    {
        var pool = _pool!;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        deadline.CancelAfter(O.ReadyTimeout);
        DeploymentScale? scale = null;
        ScaleUpPlan? plan = null;
        try
        {
            scale = O.DryRun ? new DeploymentScale(pool.Deployment, _servers.Length, "") : await _scaler.ReadScaleAsync(pool.Deployment, deadline.Token);
            var before = O.DryRun ? [] : await ListPodsAsync(scale.Selector, deadline.Token);
            var coming = ScalingDecision.Coming(before, _servers, Now, O.ReadyTimeout);
            plan = ScalingDecision.PlanScaleUp(scale.Replicas, ScalingDecision.Usable(_servers), coming, noTarget, pool);
            if (plan is null)
                return;
            if (plan.AtBound)
            {
                if (!_atBoundReported)
                    Event(ScalingAction.ScaleUp, ScalingOutcome.AtBound, pool.Deployment, plan.From, plan.From, $"{plan.Why}; at maximum {pool.Max}");
                _atBoundReported = true;
                _scaleUpNotBefore = Now + O.BackoffAfterFailure;
                return;
            }
            _atBoundReported = false;
            KubernetesLog.ScalingUp(logger, PoolId, pool.Deployment, plan.From, plan.To, plan.Why);
            var started = Stopwatch.GetTimestamp();
            await _scaler.ScaleAsync(pool.Deployment, plan.To, deadline.Token);
            if (O.DryRun)
            {
                Event(ScalingAction.ScaleUp, ScalingOutcome.DryRun, pool.Deployment, plan.From, plan.To, plan.Why);
                return;
            }
            var known = before.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
            var joined = await WaitForNewServersAsync(scale.Selector, known, plan.To - plan.From, deadline.Token);
            var elapsed = Stopwatch.GetElapsedTime(started);
            metrics.ScaleUpDuration(elapsed);
            // Failovers that found no target meanwhile are told of the new server by the pool: they try it first.
            _noTargetIgnoredUntil = Now + O.EvaluationInterval;
            _noTargetPending = false;
            Event(ScalingAction.ScaleUp, ScalingOutcome.Succeeded, pool.Deployment, plan.From, plan.To,
                $"{plan.Why}; {string.Join(", ", joined)} Ready and registered after {elapsed.TotalSeconds:0.0} s");
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !_stopping.IsCancellationRequested)
        {
            _scaleUpNotBefore = Now + O.BackoffAfterFailure;
            Event(ScalingAction.ScaleUp, ScalingOutcome.TimedOut, pool.Deployment, plan?.From ?? scale?.Replicas, plan?.To,
                $"{plan?.Why ?? "scale-up"}: no new pod Ready and registered within {O.ReadyTimeout}");
        }
        catch (KubernetesActionException ex)
        {
            _scaleUpNotBefore = Now + O.BackoffAfterFailure;
            Event(ScalingAction.ScaleUp, ScalingOutcome.Failed, pool.Deployment, plan?.From ?? scale?.Replicas, plan?.To, ex.Message);
        }
        catch (Exception ex) when (!_stopping.IsCancellationRequested)
        {
            _scaleUpNotBefore = Now + O.BackoffAfterFailure;
            Event(ScalingAction.ScaleUp, ScalingOutcome.Failed, pool.Deployment, plan?.From, plan?.To, $"{ex.GetType().Name}: {ex.Message}");
        }
    }

    /// <summary>Polls the pods and the pool until as many new pods as were added are Ready with a usable server in the pool.</summary>
    private async Task<List<string>> WaitForNewServersAsync(string selector, HashSet<string> known, int wanted, CancellationToken cancellationToken)
    {
        while (true)
        {
            await Task.Delay(O.PollInterval, time, cancellationToken);
            var fresh = (await ListPodsAsync(selector, cancellationToken)).Where(p => !known.Contains(p.Name) && p.Ready && !p.Terminating).ToList();
            if (fresh.Count == 0)
                continue;
            var servers = (await Pool.GetSnapshot()).Servers;
            _servers = servers;
            var joined = fresh.Where(p => servers.Any(s => ScalingDecision.IsServerOf(s, p) && ScalingDecision.IsUsable(s))).Select(p => p.Name).ToList();
            if (joined.Count >= wanted)
                return joined;
        }
    }

    /// <summary>Gives up one idle server: marks its pod to go first, scales down by one, removes it from the pool.</summary>
    private async Task ScaleDownAsync(ServerInstance victim)
    {
        var pool = _pool!;
        var pod = PodOf(victim);
        int? from = null;
        try
        {
            var scale = O.DryRun ? new DeploymentScale(pool.Deployment, _servers.Length, "") : await _scaler.ReadScaleAsync(pool.Deployment, _stopping.Token);
            from = scale.Replicas;
            if (scale.Replicas <= pool.Min)
            {
                if (!_atBoundReported)
                    Event(ScalingAction.ScaleDown, ScalingOutcome.AtBound, pool.Deployment, from, from, $"over its need but at minimum {pool.Min}");
                _atBoundReported = true;
                _overNeedSince = Now;
                return;
            }
            _atBoundReported = false;
            var why = $"over its need ({ScalingDecision.Need(_servers, pool)} servers) for {O.ScaleDownDelay}; giving up idle {victim.ServerId}";
            await _scaler.MarkForRemovalAsync(pod, _stopping.Token);
            await _scaler.ScaleAsync(pool.Deployment, scale.Replicas - 1, _stopping.Token);
            if (O.DryRun)
            {
                Event(ScalingAction.ScaleDown, ScalingOutcome.DryRun, pool.Deployment, from, from - 1, why);
                _overNeedSince = null;
                return;
            }
            await Pool.RemoveServer(victim.ServerId); // one that took a connection meanwhile has it moved by the pool
            Event(ScalingAction.ScaleDown, ScalingOutcome.Succeeded, pool.Deployment, from, from - 1, why);
            _overNeedSince = null;
        }
        catch (Exception ex) when (!_stopping.IsCancellationRequested)
        {
            _overNeedSince = Now; // another full delay before trying again
            Event(ScalingAction.ScaleDown, ScalingOutcome.Failed, pool.Deployment, from, from - 1, ex is KubernetesActionException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}");
        }
    }

    private void StartRotation()
    {
        if (!_rotating.IsCompleted)
        {
            _rotationDirty = true;
            return;
        }
        _rotating = RotateAsync();
    }

    /// <summary>Failed servers' pods out of rotation, recovered ones back; once per activation it first reads the labels.</summary>
    private async Task RotateAsync()
    {
        do
        {
            _rotationDirty = false;
            if (!_synced && !O.DryRun && !await SyncAsync())
                return;
            _synced = true;
            foreach (var server in _servers)
            {
                var pod = PodOf(server);
                var wanted = ScalingDecision.BelongsInRotation(server);
                if (_labelled.GetValueOrDefault(pod, true) == wanted)
                    continue;
                var action = wanted ? ScalingAction.RotateIn : ScalingAction.RotateOut;
                var why = wanted ? $"server {server.ServerId} usable again" : $"server {server.ServerId} {(server.Suspect ? "suspect: " + server.HealthDetail : "declared unhealthy")}";
                try
                {
                    await _rotation.SetRotationAsync(pod, wanted, _stopping.Token);
                    _labelled[pod] = wanted;
                    Event(action, O.DryRun ? ScalingOutcome.DryRun : ScalingOutcome.Succeeded, pod, null, null, why);
                }
                catch (KubernetesActionException ex)
                {
                    if (ex.Status == System.Net.HttpStatusCode.NotFound)
                        _labelled[pod] = wanted; // no such pod: not a Kubernetes-run server, do not ask again
                    Event(action, ScalingOutcome.Failed, pod, null, null, $"{why}: {ex.Message}");
                }
                catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
                {
                    return;
                }
            }
        }
        while (_rotationDirty);
    }

    private async Task<bool> SyncAsync()
    {
        try
        {
            var scale = await _scaler.ReadScaleAsync(_pool!.Deployment, _stopping.Token);
            foreach (var pod in await ListPodsAsync(scale.Selector, _stopping.Token))
                _labelled[pod.Name] = pod.InRotation;
            return true;
        }
        catch (Exception ex) when (!_stopping.IsCancellationRequested)
        {
            KubernetesLog.SyncFailed(logger, ex, PoolId);
            return false;
        }
    }

    private async Task<IReadOnlyList<ServerPod>> ListPodsAsync(string selector, CancellationToken cancellationToken) =>
        _pods = await _scaler.ListPodsAsync(selector, cancellationToken);

    private string PodOf(ServerInstance server) =>
        _pods.FirstOrDefault(p => ScalingDecision.IsServerOf(server, p))?.Name ?? server.ServerId;
}
