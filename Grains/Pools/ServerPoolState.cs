using OrleansControl.GrainInterfaces.Models;

namespace OrleansControl.Grains.Pools;

[GenerateSerializer, Alias("oc.state.ServerPool")]
public sealed class ServerPoolState
{
    [Id(0)] public Dictionary<string, ServerDefinition> Servers { get; set; } = [];

    /// <summary>connection id → server id: the pool's reservations, from which each server's load is counted.</summary>
    [Id(1)] public Dictionary<string, string> Assignments { get; set; } = [];

    /// <summary>server id → the evidence against it and its ejection, if any.</summary>
    [Id(2)] public Dictionary<string, ServerEvidence> Evidence { get; set; } = [];

    /// <summary>
    /// Reservations held for the other region's connections (set by ReconcileAssignments): counted in the load, but
    /// not this region's to evacuate or tell of topology changes (their owner's pool does that).
    /// </summary>
    [Id(3)] public HashSet<string> PeerOwned { get; set; } = [];
}

/// <summary>What the pool knows of one server beyond what operators declared.</summary>
[GenerateSerializer, Alias("oc.state.ServerEvidence")]
public sealed class ServerEvidence
{
    /// <summary>Failure reports within the window (times only).</summary>
    [Id(0)] public List<DateTimeOffset> Failures { get; set; } = [];
    [Id(1)] public DateTimeOffset? EjectedUntil { get; set; }
    /// <summary>Consecutive ejections (each doubles the next); reset by a sign-on.</summary>
    [Id(2)] public int Ejections { get; set; }
    [Id(3)] public string Why { get; set; } = "";
}
