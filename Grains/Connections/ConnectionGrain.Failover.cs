using OrleansControl.GrainInterfaces;
using OrleansControl.GrainInterfaces.Errors;
using OrleansControl.GrainInterfaces.Models;
using OrleansControl.GrainInterfaces.Streams;
using OrleansControl.Grains.Telemetry;

namespace OrleansControl.Grains.Connections;

/// <summary>
/// The failover coordinator: Failed → Migrating (target reserved, sidecar told) → Active on the target.
/// Idempotent two ways: a request whose key was already handled returns the original record; a request naming a
/// server the connection has already left is stale. Both hold because the grain handles one request at a time.
/// </summary>
public sealed partial class ConnectionGrain
{
    public Task<FailoverResult> RequestFailover(FailoverRequest request)
    {
        EnsureRegistered();
        if (string.IsNullOrWhiteSpace(request.IdempotencyKey))
            throw new InvalidRequestException("idempotency_key", "must not be empty");
        return FailAsync(request, "request", move: true);
    }

    public Task<FailoverResult> ReportFailure(FailureReport report)
    {
        EnsureRegistered();
        // A report that does not name its server and arrives right after a move is about the server we just left.
        if (report.ServerId is null && JustMoved())
            return Task.FromResult(Result(FailoverOutcome.Stale, null, "report"));
        var server = report.ServerId ?? S.ServerId;
        var request = new FailoverRequest($"reported: {report.Reason}", $"report:{server}:{S.Version}", server);
        return FailAsync(request, "report", _options.AutoFailover);
    }

    private async Task<FailoverResult> FailAsync(FailoverRequest request, string trigger, bool move)
    {
        var handled = S.Failovers.FindLast(f => f.IdempotencyKey == request.IdempotencyKey);
        if (handled is not null)
            return Result(FailoverOutcome.Duplicate, handled, trigger);
        if (request.FailedServerId is not null && request.FailedServerId != S.ServerId)
            return Result(FailoverOutcome.Stale, null, trigger);
        if (S.Status == ConnectionStatus.Closed)
            throw new IllegalTransitionException(Id, S.Status, ConnectionStatus.Failed, "the connection is closed");

        if (ConnectionTransitions.IsMonitored(S.Status))
            await TransitionAsync(ConnectionStatus.Failed, request.Reason);
        if (!move)
            return Result(FailoverOutcome.NoTarget, null, trigger); // AutoFailover off: left Failed for an operator
        return await MoveAsync(request, trigger);
    }

    private async Task<FailoverResult> MoveAsync(FailoverRequest request, string trigger)
    {
        var failedAt = S.Transitions.LastOrDefault(t => t.To == ConnectionStatus.Failed)?.At ?? Now;
        var from = S.ServerId;
        var pool = GrainFactory.GetGrain<IServerPoolGrain>(S.ServerPool);
        var target = await pool.PickFailoverTarget(Id, from, request.TargetServerId ?? S.FailoverTarget);
        if (target is null)
        {
            var none = new FailoverRecord(request.IdempotencyKey, request.Reason, from, null, FailoverOutcome.NoTarget, failedAt, null, null);
            _retryFailover = request;
            return Result(FailoverOutcome.NoTarget, none, trigger);
        }

        S.FailoverTarget = target.ServerId;
        if (S.Status != ConnectionStatus.Migrating) // Migrating already: resuming an interrupted move
            await TransitionAsync(ConnectionStatus.Migrating, $"failover to {target.ServerId}: {request.Reason}");
        var migratingAt = Now;
        await PublishCommandAsync(new FailoverCommand(
            Id, S.ClientId, from, target.ServerId, target.Address, request.Reason, request.IdempotencyKey, migratingAt));

        S.ServerId = target.ServerId;
        S.ServerAddress = target.Address;
        S.FailoverTarget = target.FailoverTarget;
        S.HealthScore = 100;
        S.LastErrorCount = 0;
        S.LastTimeoutCount = 0;
        var record = new FailoverRecord(request.IdempotencyKey, request.Reason, from, target.ServerId,
            FailoverOutcome.Moved, failedAt, migratingAt, Now);
        S.Failovers.Add(record);
        Trim(S.Failovers);
        await TransitionAsync(ConnectionStatus.Active, $"failover complete: {request.Reason}");
        _retryFailover = null;
        metrics.FailoverDuration(Now - failedAt);
        return Result(FailoverOutcome.Moved, record, trigger);
    }

    private bool JustMoved()
    {
        var last = S.Failovers.LastOrDefault(f => f.Outcome == FailoverOutcome.Moved);
        return last?.CompletedAt is { } done && Now - done < _options.Timeout;
    }

    private FailoverResult Result(FailoverOutcome outcome, FailoverRecord? record, string trigger)
    {
        metrics.Failover(trigger, outcome);
        Log.Failover(logger, Id, outcome, record?.FromServerId ?? S.ServerId, record?.ToServerId, record?.Reason ?? "", record?.IdempotencyKey ?? "");
        return new FailoverResult(outcome, record, Snapshot());
    }
}
