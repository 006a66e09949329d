using OrleansControl.GrainInterfaces.Models;

namespace OrleansControl.GrainInterfaces.Streams;

/// <summary>Published whenever a server's declared health or its suspect (ejected) flag changes.</summary>
[GenerateSerializer, Immutable, Alias("oc.ServerHealthChanged")]
public sealed record ServerHealthChanged(
    [property: Id(0)] string PoolId,
    [property: Id(1)] string ServerId,
    [property: Id(2)] ServerHealth Health,
    [property: Id(3)] bool Suspect,
    [property: Id(4)] DateTimeOffset? EjectedUntil,
    [property: Id(5)] string Reason,
    [property: Id(6)] DateTimeOffset At);
