using OrleansControl.GrainInterfaces.Models;

namespace OrleansControl.Grains.Pools;

[GenerateSerializer, Alias("oc.state.ServerPool")]
public sealed class ServerPoolState
{
    [Id(0)] public Dictionary<string, ServerDefinition> Servers { get; set; } = [];

    /// <summary>connection id → server id: the pool's reservations, from which each server's load is counted.</summary>
    [Id(1)] public Dictionary<string, string> Assignments { get; set; } = [];
}
