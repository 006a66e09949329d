using Microsoft.Extensions.Logging;

namespace OrleansControl.Grains.Kubernetes;

/// <summary>Log events of the Kubernetes actions (12xx).</summary>
internal static partial class KubernetesLog
{
    [LoggerMessage(1201, LogLevel.Information,
        "Pool {PoolId}: {Action} {Outcome} on {Target} (replicas {FromReplicas} -> {ToReplicas}): {Detail}")]
    public static partial void Action(ILogger logger, string poolId, ScalingAction action, ScalingOutcome outcome, string target,
        int? fromReplicas, int? toReplicas, string detail);

    [LoggerMessage(1202, LogLevel.Warning,
        "Pool {PoolId}: {Action} {Outcome} on {Target} (replicas {FromReplicas} -> {ToReplicas}): {Detail}")]
    public static partial void ActionFailed(ILogger logger, string poolId, ScalingAction action, ScalingOutcome outcome, string target,
        int? fromReplicas, int? toReplicas, string detail);

    [LoggerMessage(1203, LogLevel.Warning, "Kubernetes {Call} {Target}: attempt {Attempt} failed ({Why}); retrying in {Delay}")]
    public static partial void Retrying(ILogger logger, string call, string target, int attempt, TimeSpan delay, string why);

    [LoggerMessage(1204, LogLevel.Information, "Kubernetes dry run: would send {Call} as {Method} {Path} {Body}")]
    public static partial void DryRun(ILogger logger, string call, string method, string path, string body);

    [LoggerMessage(1205, LogLevel.Information, "Pool {PoolId}: scaling {Deployment} up from {FromReplicas} to {ToReplicas} ({Why})")]
    public static partial void ScalingUp(ILogger logger, string poolId, string deployment, int fromReplicas, int toReplicas, string why);

    [LoggerMessage(1206, LogLevel.Warning, "Pool {PoolId}: reading the pool's pods failed; rotation labels are reconciled on the next change")]
    public static partial void SyncFailed(ILogger logger, Exception exception, string poolId);

    [LoggerMessage(1207, LogLevel.Warning, "Pool {PoolId}: the scaler's state could not be stored; an action in flight may not be resumed if this silo is lost")]
    public static partial void StateNotSaved(ILogger logger, Exception exception, string poolId);
}
