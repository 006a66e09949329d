namespace OrleansControl.GrainInterfaces;

/// <summary>This region's copy of one connection owned by the other region (key: connection id).</summary>
[Alias("oc.gw.IPeerReplicaGrain")]
public interface IPeerReplicaGrain : IGrainWithStringKey
{
    /// <summary>
    /// Keeps <paramref name="entry"/> (a serialized orleanscontrol.v1.Connection) if its version is higher, and lists
    /// <paramref name="row"/> (the same entry as an index row) in the connection index while it is the current copy.
    /// </summary>
    [Alias("ApplyRow")]
    Task<ReplicaApplyResult> Apply(long version, byte[] entry, Models.ConnectionSummary row);

    [Alias("Get")]
    Task<ReplicaEntry?> Get();
}

[GenerateSerializer, Alias("oc.gw.ReplicaApplyOutcome")]
public enum ReplicaApplyOutcome
{
    Applied = 0,
    Unchanged = 1,
    /// <summary>The replica already holds a higher version; it is returned so the sender can catch up.</summary>
    Newer = 2,
}

[GenerateSerializer, Immutable, Alias("oc.gw.ReplicaEntry")]
public sealed record ReplicaEntry([property: Id(0)] long Version, [property: Id(1)] byte[] Entry);

[GenerateSerializer, Immutable, Alias("oc.gw.ReplicaApplyResult")]
public sealed record ReplicaApplyResult([property: Id(0)] ReplicaApplyOutcome Outcome, [property: Id(1)] ReplicaEntry? Current);
