namespace OrleansControl.Gateway.Regions;

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

[GenerateSerializer, Alias("oc.gw.PeerOutboxState")]
public sealed class PeerOutboxState
{
    [Id(0)] public List<PeerNotice> Notices { get; set; } = [];
    [Id(1)] public long NextSequence { get; set; } = 1;
}

/// <inheritdoc cref="IPeerOutboxGrain"/>
internal sealed class PeerOutboxGrain([PersistentState("peerOutbox", Hosting.GatewayStorage.Name)] IPersistentState<PeerOutboxState> state)
    : Grain, IPeerOutboxGrain
{
    public async Task Enqueue(PeerNotice notice)
    {
        state.State.Notices.RemoveAll(n => n.Key == notice.Key);
        state.State.Notices.Add(notice with { Sequence = state.State.NextSequence++ });
        await state.WriteStateAsync();
    }

    public Task<PeerNotice[]> Peek(int max) => Task.FromResult(state.State.Notices.Take(max).ToArray());

    public async Task Remove(string key, long sequence)
    {
        if (state.State.Notices.RemoveAll(n => n.Key == key && n.Sequence == sequence) > 0) await state.WriteStateAsync();
    }
}
