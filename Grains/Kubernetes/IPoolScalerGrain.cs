using System.Collections.Immutable;
using Orleans.Concurrency;
using OrleansControl.GrainInterfaces.Models;

namespace OrleansControl.Grains.Kubernetes;

/// <summary>
/// The Kubernetes side of one server pool (key: pool id): scales the pool's Deployment and takes failed pods out of
/// rotation (rules: <see cref="ScalingDecision"/>). The pool grain tells it what the pool looks like, one-way, so a
/// slow API server never holds up the (non-reentrant) pool or a failover: connections that found no target keep
/// retrying on their own and are told when a server joins.
/// </summary>
[Alias("oc.IPoolScalerGrain")]
public interface IPoolScalerGrain : IGrainWithStringKey
{
    [OneWay, Alias("PoolChanged")]
    Task PoolChanged(PoolObservation observation);

    /// <summary>The most recent actions, newest last (also logged and counted in metrics).</summary>
    [ReadOnly, Alias("GetEvents")]
    Task<ImmutableArray<ScalingEvent>> GetEvents();

    /// <summary>The scaling lane now: the action in flight, if any, and since when the pool has been over its need.</summary>
    [ReadOnly, Alias("GetStatus")]
    Task<ScalerStatus> GetStatus();
}

/// <summary><see cref="InFlight"/>: "scale-up 2 -> 3", "scale-down of s-1", or null.</summary>
[GenerateSerializer, Immutable, Alias("oc.ScalerStatus")]
public sealed record ScalerStatus(
    [property: Id(0)] string? InFlight,
    [property: Id(1)] DateTimeOffset? OverNeedSince,
    [property: Id(2)] DateTimeOffset ScaleUpNotBefore);

/// <summary>The pool's servers now; <see cref="NoTarget"/>: sent because a failover found no target.</summary>
[GenerateSerializer, Immutable, Alias("oc.PoolObservation")]
public sealed record PoolObservation(
    [property: Id(0)] ImmutableArray<ServerInstance> Servers,
    [property: Id(1)] bool NoTarget = false);

[GenerateSerializer, Alias("oc.ScalingAction")]
public enum ScalingAction
{
    ScaleUp = 0,
    ScaleDown = 1,
    RotateOut = 2,
    RotateIn = 3,
}

[GenerateSerializer, Alias("oc.ScalingOutcome")]
public enum ScalingOutcome
{
    Succeeded = 0,
    /// <summary>An API error that retries did not overcome (or that is not retried: 403, 404).</summary>
    Failed = 1,
    /// <summary>No new pod became Ready and registered before the deadline.</summary>
    TimedOut = 2,
    /// <summary>Called for, but already at the pool's maximum (or minimum).</summary>
    AtBound = 3,
    /// <summary>Logged only (<c>Controller:Kubernetes:DryRun</c>).</summary>
    DryRun = 4,
}

/// <summary>One action on Kubernetes: what, on which Deployment or pod, with what result.</summary>
[GenerateSerializer, Immutable, Alias("oc.ScalingEvent")]
public sealed record ScalingEvent(
    [property: Id(0)] string PoolId,
    [property: Id(1)] ScalingAction Action,
    [property: Id(2)] ScalingOutcome Outcome,
    [property: Id(3)] string Target,
    [property: Id(4)] int? FromReplicas,
    [property: Id(5)] int? ToReplicas,
    [property: Id(6)] string Detail,
    [property: Id(7)] DateTimeOffset At);
