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

    /// <summary>
    /// Plans and starts a scale-up, or with <paramref name="resume"/> finishes one a lost activation had in flight:
    /// the PATCH again only if it did not land (replicas below its target), then the wait within the original deadline.
    /// </summary>
    private async Task ScaleUpAsync(bool noTarget, ScaleUpInFlight? resume)
    {
        var pool = _pool!;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        deadline.CancelAfter(O.ReadyTimeout);
        DeploymentScale? scale = null;
        ScaleUpPlan? plan = null;
        var flight = resume;
        try
        {
            if (flight is null)
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
                    S.ScaleUpNotBefore = Now + O.BackoffAfterFailure;
                    return;
                }
                _atBoundReported = false;
                KubernetesLog.ScalingUp(logger, PoolId, pool.Deployment, plan.From, plan.To, plan.Why);
                if (O.DryRun)
                {
                    await _scaler.ScaleAsync(pool.Deployment, plan.To, deadline.Token);
                    Event(ScalingAction.ScaleUp, ScalingOutcome.DryRun, pool.Deployment, plan.From, plan.To, plan.Why);
                    return;
                }
                // Stored before the PATCH: an activation that takes over after this silo is lost finishes this one.
                flight = new ScaleUpInFlight(plan.From, plan.To, [.. before.Select(p => p.Name)], scale.Selector, plan.Why, Now, Now + O.ReadyTimeout);
                S.ScaleUp = flight;
                await SaveAsync();
                await _scaler.ScaleAsync(pool.Deployment, plan.To, deadline.Token);
            }
            else
            {
                var left = flight.Deadline - Now;
                if (left <= TimeSpan.Zero)
                    throw new OperationCanceledException(deadline.Token);
                deadline.CancelAfter(left);
                scale = await _scaler.ReadScaleAsync(pool.Deployment, deadline.Token);
                if (scale.Replicas < flight.To)
                    await _scaler.ScaleAsync(pool.Deployment, flight.To, deadline.Token);
            }
            var joined = await WaitForNewServersAsync(flight.Selector, [.. flight.PodsBefore], flight.To - flight.From, deadline.Token);
            var elapsed = Now - flight.StartedAt;
            metrics.ScaleUpDuration(elapsed);
            // Failovers that found no target meanwhile are told of the new server by the pool: they try it first.
            _noTargetIgnoredUntil = Now + O.EvaluationInterval;
            _noTargetPending = false;
            S.ScaleUp = null;
            Event(ScalingAction.ScaleUp, ScalingOutcome.Succeeded, pool.Deployment, flight.From, flight.To,
                $"{flight.Why}; {string.Join(", ", joined)} Ready and registered after {elapsed.TotalSeconds:0.0} s{Resumed(resume)}");
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !_stopping.IsCancellationRequested)
        {
            ScaleUpEnded(ScalingOutcome.TimedOut, flight?.From ?? plan?.From ?? scale?.Replicas, flight?.To ?? plan?.To,
                $"{flight?.Why ?? plan?.Why ?? "scale-up"}: no new pod Ready and registered within {O.ReadyTimeout}{Resumed(resume)}");
        }
        catch (KubernetesActionException ex)
        {
            ScaleUpEnded(ScalingOutcome.Failed, flight?.From ?? plan?.From ?? scale?.Replicas, flight?.To ?? plan?.To, ex.Message);
        }
        catch (Exception ex) when (!_stopping.IsCancellationRequested)
        {
            ScaleUpEnded(ScalingOutcome.Failed, flight?.From ?? plan?.From, flight?.To ?? plan?.To, $"{ex.GetType().Name}: {ex.Message}");
        }
        // Stopping (the silo shuts down or the grain moves): the action stays recorded for the next activation.
    }

    private void ScaleUpEnded(ScalingOutcome outcome, int? from, int? to, string detail)
    {
        S.ScaleUpNotBefore = Now + O.BackoffAfterFailure;
        S.ScaleUp = null;
        Event(ScalingAction.ScaleUp, outcome, _pool!.Deployment, from, to, detail);
    }

    private static string Resumed(object? resume) => resume is null ? "" : " (resumed by a new activation after the previous one was lost)";

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

    /// <summary>
    /// Gives up one idle server: marks its pod to go first, scales down by one, removes it from the pool. With
    /// <paramref name="resume"/> it repeats the steps a lost activation had begun: each is idempotent (the scale only
    /// if it is still above the target).
    /// </summary>
    private async Task ScaleDownAsync(ServerInstance? victim, ScaleDownInFlight? resume)
    {
        var pool = _pool!;
        var flight = resume;
        try
        {
            if (flight is null)
            {
                var scale = O.DryRun ? new DeploymentScale(pool.Deployment, _servers.Length, "") : await _scaler.ReadScaleAsync(pool.Deployment, _stopping.Token);
                if (scale.Replicas <= pool.Min)
                {
                    if (!_atBoundReported)
                        Event(ScalingAction.ScaleDown, ScalingOutcome.AtBound, pool.Deployment, scale.Replicas, scale.Replicas, $"over its need but at minimum {pool.Min}");
                    _atBoundReported = true;
                    SetOverNeedSince(Now);
                    return;
                }
                _atBoundReported = false;
                var why = $"over its need ({ScalingDecision.Need(_servers, pool)} servers) for {O.ScaleDownDelay}; giving up idle {victim!.ServerId}";
                flight = new ScaleDownInFlight(victim.ServerId, PodOf(victim), scale.Replicas, why);
                if (O.DryRun)
                {
                    await _scaler.MarkForRemovalAsync(flight.Pod, _stopping.Token);
                    await _scaler.ScaleAsync(pool.Deployment, flight.From - 1, _stopping.Token);
                    Event(ScalingAction.ScaleDown, ScalingOutcome.DryRun, pool.Deployment, flight.From, flight.From - 1, why);
                    SetOverNeedSince(null);
                    return;
                }
                S.ScaleDown = flight;
                await SaveAsync();
                await _scaler.MarkForRemovalAsync(flight.Pod, _stopping.Token);
                await _scaler.ScaleAsync(pool.Deployment, flight.From - 1, _stopping.Token);
            }
            else
            {
                await _scaler.MarkForRemovalAsync(flight.Pod, _stopping.Token);
                if ((await _scaler.ReadScaleAsync(pool.Deployment, _stopping.Token)).Replicas > flight.From - 1)
                    await _scaler.ScaleAsync(pool.Deployment, flight.From - 1, _stopping.Token);
            }
            await Pool.RemoveServer(flight.ServerId); // one that took a connection meanwhile has it moved by the pool
            S.ScaleDown = null;
            S.OverNeedSince = null;
            Event(ScalingAction.ScaleDown, ScalingOutcome.Succeeded, pool.Deployment, flight.From, flight.From - 1, flight.Why + Resumed(resume));
        }
        catch (Exception ex) when (!_stopping.IsCancellationRequested)
        {
            S.ScaleDown = null;
            S.OverNeedSince = Now; // another full delay before trying again
            Event(ScalingAction.ScaleDown, ScalingOutcome.Failed, pool.Deployment, flight?.From, flight?.From - 1, ex is KubernetesActionException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}");
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
