using Microsoft.Extensions.Logging;
using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Models;

namespace OrleansControl.Grains.Connections;

/// <summary>
/// The death window (docs/grains.md): the pool grain's silo died and membership has not declared it dead yet, so
/// every call to the pool waits for that declaration (seconds). On the failover path the connection waits at most
/// <see cref="ConnectionHealthOptions.PoolCallDeadline"/>, then takes the answer from this silo's replica of the pool,
/// provisionally: nothing is reserved in the pool. The reservation is reconciled with the pool grain (ConfirmSignedOn,
/// which moves the connection's one reservation to where the link is) on the next timer tick that reaches it; a
/// server the reconciliation finds over capacity is logged by the pool and the connection moved off it again.
/// </summary>
public sealed partial class ConnectionGrain
{
    /// <summary>After the pool missed a deadline, the next calls on the failover path do not wait for it again until then.</summary>
    private DateTimeOffset _poolLateUntil;

    private IServerPoolReplicaGrain Replica => GrainFactory.GetGrain<IServerPoolReplicaGrain>(S.ServerPool);

    private bool PoolKnownLate => Now < _poolLateUntil;

    /// <summary>Activates this silo's replica of the pool before anything fails (one-way: nothing waits on it).</summary>
    private void WarmReplica()
    {
        if (!string.IsNullOrEmpty(S.ServerPool))
            _ = Replica.Warm().ContinueWith(t => _ = t.Exception, TaskContinuationOptions.OnlyOnFaulted);
    }

    /// <param name="urgent">False for a retry of a failover that found no target: nothing waits on it, so it waits for
    /// the pool as long as that takes (a busy pool, 2,000 connections retrying, is slow, not dead).</param>
    private async Task<ServerAssignment?> ReserveTargetAsync(FailoverTargetRequest request, bool urgent = true)
    {
        if (!urgent || !PoolKnownLate)
        {
            var call = Pool.ReserveFailoverTarget(request);
            if (!urgent || await AnsweredInTimeAsync(call, "ReserveFailoverTarget"))
                return await call;
        }
        var target = await Replica.PickFailoverTarget(request);
        metrics.ProvisionalPoolAnswer("ReserveFailoverTarget");
        if (target is not null)
        {
            S.PoolReconcilePending = true;
            LogProvisionalTarget(Id, target.ServerId, S.ServerPool);
        }
        return target;
    }

    /// <summary>The pool's server at <paramref name="address"/>, the connection's reservation moved there; provisional in the death window.</summary>
    /// <param name="reconcile">From the timer: asks the pool even while it is known late.</param>
    private async Task<ServerAssignment?> ConfirmAsync(string address, bool reconcile = false)
    {
        var call = PoolKnownLate && !reconcile ? null : Pool.ConfirmSignedOn(Id, address);
        if (call is null || !await AnsweredInTimeAsync(call, "ConfirmSignedOn"))
        {
            metrics.ProvisionalPoolAnswer("ConfirmSignedOn");
            S.PoolReconcilePending = true;
            return await Replica.FindServer(address);
        }
        var server = await call;
        _poolLateUntil = default;
        var wasProvisional = S.PoolReconcilePending;
        S.PoolReconcilePending = false;
        if (wasProvisional)
            LogReconciled(Id, server?.ServerId ?? address, server?.OverCapacity ?? false);
        if (wasProvisional && server is { OverCapacity: true })
        {
            // Chosen from a replica that did not see the last slot go: move it to a server with room (queued behind this turn).
            _ = this.AsReference<IConnectionGrain>().RequestFailover(new FailoverRequest(
                $"rebalance: {server.ServerId} over capacity after a provisional choice", $"rebalance:{server.ServerId}:{S.Version}",
                FailedServerId: null));
        }
        return server;
    }

    /// <summary>On the timer: a provisional answer is confirmed with the pool grain once it answers again.</summary>
    private async Task ReconcileIfPendingAsync()
    {
        if (!S.PoolReconcilePending || S.Status is not (ConnectionStatus.Active or ConnectionStatus.Degraded) || S.ServerAddress is not { } address)
            return;
        var before = S.ServerId;
        var server = await ConfirmAsync(address, reconcile: true);
        if (S.PoolReconcilePending)
            return; // the pool still does not answer: next tick
        Place(server, address);
        _heartbeatDirty = true;
        if (before != S.ServerId)
            await RecordChangeAsync($"registry reconciled with the pool: signed on at {S.ServerId ?? address}");
        S.BackupsSent = ""; // ranked while the pool could not answer, or not at all
        await SendBackupsAsync();
    }

    /// <summary>Evidence against a server is not waited for past the deadline; the call goes on, and is logged if it is lost.</summary>
    private async Task ReportServerFailureAsync(string serverId, string why)
    {
        var call = Pool.ReportServerFailure(new ServerFailureReport(serverId, Id, why));
        if (!PoolKnownLate && await AnsweredInTimeAsync(call, "ReportServerFailure"))
            await call;
        else
            _ = call.ContinueWith(t => LogEvidenceLost(Id, serverId, S.ServerPool, t.Exception!.GetBaseException().GetType().Name),
                CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Current);
    }

    /// <summary>
    /// <see cref="FinishedInTimeAsync"/> for the pool: a pool that missed the deadline is not waited for again on the
    /// failover path until the next heartbeat interval.
    /// </summary>
    private async Task<bool> AnsweredInTimeAsync(Task call, string what)
    {
        if (await FinishedInTimeAsync(call))
            return true;
        _poolLateUntil = Now + _options.HeartbeatInterval;
        LogPoolLate(Id, what, S.ServerPool, (long)_options.PoolCallDeadline.TotalMilliseconds);
        return false;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Connection {ConnectionId}: pool {PoolId} did not answer {Call} within {DeadlineMs} ms; not waiting for it")]
    private partial void LogPoolLate(string connectionId, string call, string poolId, long deadlineMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Connection {ConnectionId}: provisional failover target {ServerId} from the replica of pool {PoolId}; reconciled when the pool answers")]
    private partial void LogProvisionalTarget(string connectionId, string serverId, string poolId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Connection {ConnectionId}: provisional reservation reconciled with the pool at {ServerId} (over capacity: {OverCapacity})")]
    private partial void LogReconciled(string connectionId, string serverId, bool overCapacity);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Connection {ConnectionId}: evidence against server {ServerId} did not reach pool {PoolId} ({Error})")]
    private partial void LogEvidenceLost(string connectionId, string serverId, string poolId, string error);
}
