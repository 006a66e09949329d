using OrleansControl.GrainInterfaces.Streams;

namespace OrleansControl.GrainInterfaces;

/// <summary>
/// This region's copy of one connection owned by the other region (key: connection id). Two ways feed it, and the
/// owner's incarnation and version decide between them: the gRPC link's SyncState (<see cref="Apply"/>) and the bus,
/// the owner's status events read from Kafka (<see cref="ApplyEvent"/>). Each keeps only what is newer than the copy
/// (<see cref="Models.ConnectionIncarnation.Compare"/>: a later registration whatever its version, else a higher version
/// of the same one), so the two never fight, whichever arrives first; what the bus already brought, SyncState finds
/// unchanged. An owner restarted on memory registers its connections again from version 1 under a new incarnation, and
/// the copy follows it at once.
/// </summary>
[Alias("oc.gw.IPeerReplicaGrain")]
public interface IPeerReplicaGrain : IGrainWithStringKey
{
    /// <summary>
    /// Keeps <paramref name="entry"/> (a serialized orleanscontrol.v1.Connection) if it is newer (its incarnation is
    /// <paramref name="row"/>'s <see cref="Models.ConnectionSummary.Incarnation"/>), and lists
    /// <paramref name="row"/> (the same entry as an index row) in the connection index while it is the current copy.
    /// </summary>
    [Alias("ApplyRow")]
    Task<ReplicaApplyResult> Apply(long version, byte[] entry, Models.ConnectionSummary row);

    /// <summary>
    /// The bus's way: keeps what <paramref name="change"/> says (status, server, score, target, detail) if it is newer
    /// than the copy, and lists it. A repeat (at least once) or an event older than the copy (a lower version, or any
    /// version of an earlier incarnation) changes nothing.
    /// </summary>
    [Alias("ApplyEvent")]
    Task<ReplicaApplyOutcome> ApplyEvent(ConnectionStatusChanged change);

    [Alias("Get")]
    Task<ReplicaEntry?> Get();
}

[GenerateSerializer, Alias("oc.gw.ReplicaApplyOutcome")]
public enum ReplicaApplyOutcome
{
    Applied = 0,
    Unchanged = 1,
    /// <summary>The replica already holds a newer entry (a higher version, or a later incarnation); it is returned so the sender can catch up.</summary>
    Newer = 2,
}

/// <summary>
/// The copy: <see cref="Row"/> is the current one (what the listing shows, from either way); <see cref="Entry"/> is the
/// last full entry SyncState brought (null when only the bus has), older than <see cref="Version"/> when the bus has
/// brought changes since: the gateway overlays the row on it.
/// </summary>
[GenerateSerializer, Immutable, Alias("oc.gw.ReplicaEntry")]
public sealed record ReplicaEntry(
    [property: Id(0)] long Version,
    [property: Id(1)] byte[]? Entry,
    [property: Id(2)] Models.ConnectionSummary? Row = null);

[GenerateSerializer, Immutable, Alias("oc.gw.ReplicaApplyResult")]
public sealed record ReplicaApplyResult([property: Id(0)] ReplicaApplyOutcome Outcome, [property: Id(1)] ReplicaEntry? Current);
