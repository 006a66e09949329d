using System.Collections.Immutable;

namespace OrleansControl.Grains.Kubernetes;

/// <summary>
/// What a pool's scaler must not forget when its silo goes: the action in flight (so the new activation finishes it
/// instead of starting another), since when the pool has been over its need (so the scale-down delay is not restarted),
/// the backoff after a failure, and the recent events. Rotation labels are not kept: they are re-read from the pods.
/// </summary>
[GenerateSerializer, Alias("oc.state.PoolScaler")]
public sealed class PoolScalerState
{
    [Id(0)] public DateTimeOffset? OverNeedSince { get; set; }

    [Id(1)] public DateTimeOffset ScaleUpNotBefore { get; set; }

    [Id(2)] public ScaleUpInFlight? ScaleUp { get; set; }

    [Id(3)] public ScaleDownInFlight? ScaleDown { get; set; }

    /// <summary>The most recent events, oldest first.</summary>
    [Id(4)] public List<ScalingEvent> Events { get; set; } = [];

    public bool HasWork => ScaleUp is not null || ScaleDown is not null || OverNeedSince is not null;
}

/// <summary>A scale-up recorded before its PATCH: the pods that existed before it, and until when to wait for the new ones.</summary>
[GenerateSerializer, Immutable, Alias("oc.state.ScaleUpInFlight")]
public sealed record ScaleUpInFlight(
    [property: Id(0)] int From,
    [property: Id(1)] int To,
    [property: Id(2)] ImmutableArray<string> PodsBefore,
    [property: Id(3)] string Selector,
    [property: Id(4)] string Why,
    [property: Id(5)] DateTimeOffset StartedAt,
    [property: Id(6)] DateTimeOffset Deadline);

/// <summary>A scale-down recorded before its first request: the server given up, its pod, and the replicas it started from.</summary>
[GenerateSerializer, Immutable, Alias("oc.state.ScaleDownInFlight")]
public sealed record ScaleDownInFlight(
    [property: Id(0)] string ServerId,
    [property: Id(1)] string Pod,
    [property: Id(2)] int From,
    [property: Id(3)] string Why);
