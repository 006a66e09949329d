namespace OrleansControl.GrainInterfaces;

/// <summary>
/// What this region must still tell the peer region (key: peer region), persisted so a gateway that dies while the
/// link is down loses nothing: assignments made from the local mirror, server health verdicts to relay.
/// </summary>
[Alias("oc.gw.IPeerOutboxGrain")]
public interface IPeerOutboxGrain : IGrainWithStringKey
{
    /// <summary>Queues a notice; a newer notice with the same <see cref="PeerNotice.Key"/> replaces the older one.</summary>
    [Alias("Enqueue")]
    Task Enqueue(PeerNotice notice);

    [Alias("Peek")]
    Task<PeerNotice[]> Peek(int max);

    /// <summary>Removes the notice if it is still the one that was sent (a newer one with the same key stays).</summary>
    [Alias("Remove")]
    Task Remove(string key, long sequence);
}

/// <summary>One call to make on the peer: <see cref="Method"/> with a serialized protobuf request.</summary>
[GenerateSerializer, Immutable, Alias("oc.gw.PeerNotice")]
public sealed record PeerNotice(
    [property: Id(0)] string Key,
    [property: Id(1)] string Method,
    [property: Id(2)] byte[] Request,
    [property: Id(3)] long Sequence = 0);
